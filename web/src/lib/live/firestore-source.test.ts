import { beforeEach, describe, expect, it, vi } from 'vitest';

/**
 * The console keeps only the Firebase user it signed in (issue 13): Firebase itself cannot run here,
 * so its SDK is replaced at the edge by a stand-in that records sign-ins and sign-outs.
 */
const firebase = vi.hoisted(() => ({
  currentUser: null as { uid: string } | null,
  calls: [] as string[],
}));

vi.mock('firebase/app', () => ({ getApps: () => [{}], initializeApp: () => ({}) }));
vi.mock('firebase/auth', () => {
  const auth = {
    get currentUser() {
      return firebase.currentUser;
    },
    authStateReady: async () => {},
  };
  return {
    getAuth: () => auth,
    signOut: async () => {
      firebase.calls.push(`signOut ${firebase.currentUser?.uid}`);
      firebase.currentUser = null;
    },
    signInWithCustomToken: async (_a: unknown, token: string) => {
      firebase.calls.push(`signIn ${token}`);
      firebase.currentUser = { uid: token.replace('token-for-', '') };
    },
  };
});
vi.mock('firebase/firestore', () => ({
  getFirestore: () => ({}),
  query: () => ({}),
  collection: () => ({}),
  where: () => ({}),
  doc: () => ({}),
  // the device listener answers once, from the server: the source reports 'live'
  onSnapshot: (...args: unknown[]) => {
    if (args.length === 4) (args[2] as (snap: unknown) => void)({ metadata: { fromCache: false }, docChanges: () => [] });
    return () => undefined;
  },
}));

const { FirestoreSource, rememberFirebaseToken, signOutOfFirebase } = await import('./firestore-source.js');

const storage = new Map<string, string>();
vi.stubGlobal('sessionStorage', {
  getItem: (k: string) => storage.get(k) ?? null,
  setItem: (k: string, v: string) => void storage.set(k, v),
  removeItem: (k: string) => void storage.delete(k),
});

const config = { apiKey: 'k', authDomain: 'demo-mdm.firebaseapp.com', projectId: 'demo-mdm', appId: 'a' };

async function connect(adminId: string) {
  const statuses: string[] = [];
  const source = new FirestoreSource(
    config,
    () => '2026-01-01T00:00:00.000Z',
    () => adminId,
  );
  source.start({
    devices: () => {},
    removed: () => {},
    summary: () => {},
    resync: () => {},
    status: (s, why) => statuses.push(why ? `${s}: ${why}` : s),
  });
  await vi.waitFor(() => expect(statuses.length).toBeGreaterThan(1));
  source.stop();
  return statuses;
}

describe('the Firebase user behind the live view', () => {
  beforeEach(() => {
    firebase.currentUser = null;
    firebase.calls = [];
    storage.clear();
  });

  it("drops another admin's Firebase user left in this browser and signs in with this login's token", async () => {
    firebase.currentUser = { uid: 'previous-admin' };
    rememberFirebaseToken('token-for-me');
    expect(await connect('me')).toEqual(['connecting', 'live']);
    expect(firebase.calls).toEqual(['signOut previous-admin', 'signIn token-for-me']);
    expect(firebase.currentUser).toEqual({ uid: 'me' });
  });

  it('drops a foreign user even without a token, and asks to sign in again', async () => {
    firebase.currentUser = { uid: 'someone-else' };
    const statuses = await connect('me');
    expect(firebase.calls).toEqual(['signOut someone-else']);
    expect(statuses.at(-1)).toMatch(/sign in again/);
  });

  it('keeps its own user across a reload (no token, same admin)', async () => {
    firebase.currentUser = { uid: 'me' };
    await connect('me');
    expect(firebase.calls).toEqual([]);
  });

  it('signs out of Firebase Auth on console sign-out, and only on a Firebase deployment', async () => {
    firebase.currentUser = { uid: 'me' };
    await signOutOfFirebase({ liveSource: 'sse' });
    expect(firebase.calls).toEqual([]);
    await signOutOfFirebase({ liveSource: 'firestore', firebase: config });
    expect(firebase.calls).toEqual(['signOut me']);
  });
});
