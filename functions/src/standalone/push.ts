import { readFile } from 'node:fs/promises';
import { cert, initializeApp } from 'firebase-admin/app';
import { getMessaging } from 'firebase-admin/messaging';
import { FcmPush } from '../adapters/fcm/fcm-push.js';

/** FCM for the standalone server, from a service-account file (FCM_SERVICE_ACCOUNT). */
export async function fcmPush(serviceAccountPath: string): Promise<FcmPush> {
  const account = JSON.parse(await readFile(serviceAccountPath, 'utf8')) as Parameters<typeof cert>[0];
  const app = initializeApp({ credential: cert(account) }, 'fleet-mdm-push');
  return new FcmPush(getMessaging(app));
}
