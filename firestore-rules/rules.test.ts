import { assertFails, assertSucceeds, initializeTestEnvironment, type RulesTestEnvironment } from '@firebase/rules-unit-testing';
import { collection, deleteDoc, doc, getDoc, getDocs, setDoc, updateDoc } from 'firebase/firestore';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, it } from 'vitest';

/**
 * firestore.rules against the Firestore emulator: the console's signed-in admins (a custom token with
 * a `role` claim, minted by the backend) may read the device mirror and the fleet summary; nobody
 * else reads anything, and no browser writes. Runs in the GitHub workflow (`npm run test:rules`
 * under `firebase emulators:exec --only firestore`); the emulator is a download with Java 21, so
 * it does not run offline.
 */
let env: RulesTestEnvironment;

beforeAll(async () => {
  env = await initializeTestEnvironment({
    projectId: 'demo-mdm-rules',
    firestore: { rules: readFileSync(new URL('../firestore.rules', import.meta.url), 'utf8') },
  });
  await env.withSecurityRulesDisabled(async (ctx) => {
    const db = ctx.firestore();
    await setDoc(doc(db, 'devices/d1'), { name: 'Pixel 7', status: 'online' });
    await setDoc(doc(db, 'fleet/summary'), { total: 1, online: 1 });
    await setDoc(doc(db, 'fleet/other'), { secret: true });
    await setDoc(doc(db, 'audit/a1'), { who: 'someone' });
  });
});
afterAll(() => env?.cleanup());

const as = (role: string | undefined) =>
  role === undefined ? env.unauthenticatedContext().firestore() : env.authenticatedContext(`uid-${role}`, { role }).firestore();

describe.each(['viewer', 'operator', 'admin'])('a signed-in %s', (role) => {
  it('reads a device, lists devices and reads the fleet summary', async () => {
    const db = as(role);
    await assertSucceeds(getDoc(doc(db, 'devices/d1')));
    await assertSucceeds(getDocs(collection(db, 'devices')));
    await assertSucceeds(getDoc(doc(db, 'fleet/summary')));
  });

  it('writes nothing: the backend writes with the Admin SDK', async () => {
    const db = as(role);
    await assertFails(setDoc(doc(db, 'devices/d2'), { name: 'forged' }));
    await assertFails(updateDoc(doc(db, 'devices/d1'), { status: 'offline' }));
    await assertFails(deleteDoc(doc(db, 'devices/d1')));
    await assertFails(setDoc(doc(db, 'fleet/summary'), { total: 0 }));
  });

  it('reads no other document of fleet, nor lists it, nor any other collection', async () => {
    const db = as(role);
    await assertFails(getDoc(doc(db, 'fleet/other')));
    await assertFails(getDocs(collection(db, 'fleet')));
    await assertFails(getDoc(doc(db, 'audit/a1')));
    await assertFails(setDoc(doc(db, 'audit/a2'), { who: 'me' }));
  });
});

describe('anyone else', () => {
  it.each([
    ['not signed in', undefined],
    ['signed in without an admin role', 'device'],
    ['with an empty role', ''],
  ])('%s reads and writes nothing', async (_what, role) => {
    const db =
      role === undefined
        ? as(undefined)
        : role === 'device'
          ? env.authenticatedContext('uid-plain').firestore() // a Firebase user the backend did not mint
          : as(role);
    await assertFails(getDoc(doc(db, 'devices/d1')));
    await assertFails(getDocs(collection(db, 'devices')));
    await assertFails(getDoc(doc(db, 'fleet/summary')));
    await assertFails(setDoc(doc(db, 'devices/d1'), { name: 'x' }));
  });
});
