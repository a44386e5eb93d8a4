import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';

/** A repository class: built on the EntityManager it runs its statements through. */
export type RepositoryClass<TRepository> = new (manager: EntityManager) => TRepository;

/**
 * A set of repositories bound to one EntityManager: the data source's own
 * (each statement commits by itself) or a transaction's. Each repository is
 * built once per scope.
 */
export class RepositoryScope {
  private readonly built = new Map<RepositoryClass<unknown>, unknown>();

  /** The EntityManager is for the platform (the outbox, the consumers' bookkeeping); modules ask for repositories. */
  constructor(readonly manager: EntityManager) {}

  get<TRepository>(repository: RepositoryClass<TRepository>): TRepository {
    let instance = this.built.get(repository) as TRepository | undefined;
    if (!instance) {
      instance = new repository(this.manager);
      this.built.set(repository, instance);
    }
    return instance;
  }
}

const connectionScope = new AsyncLocalStorage<RepositoryScope>();

/**
 * Runs `work` with the statements of every `uow.get(…)` in it on `manager`
 * (a connection of its own, ReservedConnection) instead of the pool: the
 * live feed's reads through the modules' services. Transactions still take
 * a pool connection.
 */
export function onConnection<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
  return connectionScope.run(new RepositoryScope(manager), work);
}

/** A scope whose statements commit together: what `UnitOfWork.transaction` hands its work. */
export class Transaction extends RepositoryScope {}

/**
 * Where a service gets its repositories: `uow.get(TasksRepository)` outside a
 * transaction, `uow.transaction((tx) => tx.get(TasksRepository)...)` inside
 * one. A service never handles an EntityManager, so it cannot forget to pass
 * the transaction on.
 */
export class UnitOfWork {
  private readonly autocommit: RepositoryScope;

  constructor(private readonly dataSource: DataSource) {
    this.autocommit = new RepositoryScope(dataSource.manager);
  }

  get<TRepository>(repository: RepositoryClass<TRepository>): TRepository {
    return (connectionScope.getStore() ?? this.autocommit).get(repository);
  }

  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => work(new Transaction(manager)));
  }
}
