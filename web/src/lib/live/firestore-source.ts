import type { ConsoleConfig } from '../types.js';
import type { LiveHandlers, LiveSource } from './live-source.js';
import {
  DEVICES_COLLECTION,
  FLEET_COLLECTION,
  SUMMARY_DOC,
  devicesFromChanges,
  removedFromChanges,
  isFatalFirestoreError,
  listenSince,
  summaryFromSnapshot,
} from './firestore-mapping.js';

const TOKEN_KEY = 'mdm.firebaseToken';

/** Keeps the login's custom token for this tab until Firebase Auth has signed in with it. */
export const rememberFirebaseToken = (token: string | null) => {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
};

/**
 * Signs this browser out of Firebase Auth (console sign-out, or a session the server ended), so the
 * Firestore mirror stops answering it; the SDK is loaded only on a Firebase deployment.
 */
export async function signOutOfFirebase(config: ConsoleConfig): Promise<void> {
  if (config.liveSource !== 'firestore' || !config.firebase) return;
  const [{ initializeApp, getApps }, auth] = await Promise.all([import('firebase/app'), import('firebase/auth')]);
  const a = auth.getAuth(getApps()[0] ?? initializeApp(config.firebase));
  await a.authStateReady();
  if (a.currentUser) await auth.signOut(a);
}

/**
 * A Firebase deployment's live view: signs in to Firebase Auth with the custom token the login
 * returned (the role is a claim the Firestore rules check), then listens with onSnapshot to the
 * device documents written since the console's snapshot and to the fleet summary. The SDK is loaded
 * only here, so the standalone console never downloads it. Firestore's listener retries by itself;
 * its connection state shows through onSnapshotsInSync and errors.
 */
export class FirestoreSource implements LiveSource {
  readonly kind = 'firestore' as const;
  #unsubscribe: (() => void)[] = [];
  #stopped = false;

  constructor(
    private readonly config: NonNullable<ConsoleConfig['firebase']>,
    private readonly snapshotAt: () => string,
    /** The signed-in admin's id: the only Firebase user this console keeps. */
    private readonly adminId: () => string | undefined = () => undefined,
  ) {}

  start(handlers: LiveHandlers): void {
    this.#stopped = false;
    handlers.status('connecting');
    this.#connect(handlers).catch((err: unknown) => handlers.status('stopped', `Live updates are unavailable: ${(err as Error).message}`));
  }

  stop(): void {
    this.#stopped = true;
    for (const u of this.#unsubscribe.splice(0)) u();
  }

  async #connect(h: LiveHandlers): Promise<void> {
    const [{ initializeApp, getApps }, auth, fs] = await Promise.all([
      import('firebase/app'),
      import('firebase/auth'),
      import('firebase/firestore'),
    ]);
    const app = getApps()[0] ?? initializeApp(this.config);
    const a = auth.getAuth(app);
    await a.authStateReady();
    const token = sessionStorage.getItem(TOKEN_KEY);
    // A Firebase user this console did not sign in - another admin's from an earlier session in this
    // browser, or one left behind - is dropped; a fresh token from the login always replaces the user
    // (its role claim may have changed).
    if (a.currentUser && (token || a.currentUser.uid !== this.adminId())) await auth.signOut(a);
    if (!a.currentUser) {
      if (!token) throw new Error('sign in again to connect to Firestore');
      await auth.signInWithCustomToken(a, token);
    }
    sessionStorage.removeItem(TOKEN_KEY);
    if (this.#stopped) return;
    const db = fs.getFirestore(app);
    const fail = (err: { code?: string; message: string }) => {
      if (isFatalFirestoreError(err.code)) h.status('stopped', 'Firestore refused the live view; sign in again.');
      else h.status('reconnecting', err.message);
    };
    const devices = fs.query(fs.collection(db, DEVICES_COLLECTION), fs.where('updatedAt', '>', listenSince(this.snapshotAt())));
    this.#unsubscribe.push(
      fs.onSnapshot(
        devices,
        { includeMetadataChanges: true },
        (snap) => {
          h.status(snap.metadata.fromCache ? 'reconnecting' : 'live');
          const docs = devicesFromChanges(snap.docChanges());
          if (docs.length) h.devices(docs);
          const gone = removedFromChanges(snap.docChanges());
          if (gone.length) h.removed(gone);
        },
        fail,
      ),
      fs.onSnapshot(
        fs.doc(db, FLEET_COLLECTION, SUMMARY_DOC),
        (snap) => {
          const summary = summaryFromSnapshot(snap);
          if (summary) h.summary(summary);
        },
        fail,
      ),
    );
  }
}
