// @ts-check
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier/flat';
import tseslint from 'typescript-eslint';

/**
 * `npm run lint`: typescript-eslint's type-checked recommended rules (floating and misused promises,
 * await of a non-promise, unsafe `any` crossing a boundary), a few more that catch bugs, and prettier's
 * config last so no rule argues with the formatter. Each rule turned off says why in a line.
 */
export default defineConfig(
  {
    // test/fixtures is a deliberately broken app for the architecture test, outside tsconfig.json;
    // examples/frontend/src/generated is GraphQL Code Generator's output.
    ignores: ['dist/', 'coverage/', '.data/', '.bench/', 'test/fixtures/', 'examples/frontend/src/generated/'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A switch over a union names every member, or says `default:`: a new event type or status cannot slip past it.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `return promise` inside try returns before it settles: a rejection skips the catch, finally runs too early
      // (elsewhere `return await` is redundant, and this setting asks to leave it out).
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // A deprecated API (TypeORM's `connection`, graphql-js options) is a removal waiting in the next major.
      '@typescript-eslint/no-deprecated': 'error',
      // `_name` marks a binding kept on purpose; `{ omitted, ...rest }` is how a field is dropped from a copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `interface Config extends ConfigSettings {}` merges settings into a class: an empty interface with one parent.
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Off: `async` marks methods that satisfy a promise-returning interface (Apollo plugin hooks, Mailer.send,
      // drop/cleanup); an un-awaited promise is caught by no-floating-promises, not by this rule.
      '@typescript-eslint/require-await': 'off',
      // Off: its findings were all closures in objects typed with method shorthand ({ close(): Promise<void> }),
      // never a class method passed as a callback; the code passes arrow functions for those.
      '@typescript-eslint/unbound-method': 'off',
      // Off: it flags the repositories' `(await manager.query(sql, params)) as Row[]`, an unchecked cast
      // like the `query<Row[]>(…)` it asks for; an unneeded assertion is clutter, not a bug.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Off: `Function` is the class-reference type TypeORM and type-graphql take (entities, migrations,
      // resolvers); these are passed to them, never called.
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests: they read GraphQL answers as untyped JSON (`Record<string, any>`) and assert on
      // them; a wrong shape fails the assertion. App code and scripts keep these rules.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The CommonJS config files (jest, dependency-cruiser) and this file: outside tsconfig.json.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
