import { UsersRepository, userColumnsSql } from '../../src/modules/identity/users.repository';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

/*
 * A user shown anywhere (an assignee, an author, `me`) is read without the
 * password hash: only logIn and confirmPassword read it, each for the one
 * account they check.
 */
describe('reads of users for display', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('never carry the password hash (the user loader, and the columns another module joins)', async () => {
    const { user } = await signUp(api);
    const [row] = await new UsersRepository(api.app.dataSource.manager).byIds([user.id]);
    expect(row).toMatchObject({ id: user.id, email: user.email });
    expect(row).not.toHaveProperty('passwordHash');
    expect(userColumnsSql(api.app.dataSource.manager, 'a', 'assignee')).not.toContain('password_hash');
  });

  it('confirming the current password still reads the hash, and still refuses a wrong one', async () => {
    const owner = await signUp(api, { password: 'the-right-password-1' });
    const change = (currentPassword: string) =>
      api.gql(
        'mutation C($input: ChangePasswordInput!) { changePassword(input: $input) }',
        { input: { currentPassword, newPassword: 'a-brand-new-password-2' } },
        { token: owner.accessToken },
      );
    const wrong = await change('not-the-password-9');
    expect(wrong.body.errors?.[0].extensions.code).toBe('BAD_USER_INPUT');
    const right = await change('the-right-password-1');
    expect(right.body.errors).toBeUndefined();
  });
});
