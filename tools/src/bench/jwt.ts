import { createHmac } from 'node:crypto';

/**
 * Device access tokens minted the way the server mints them (HS256, issuer fleet-mdm, audience
 * device, key = HMAC-SHA256(JWT_SECRET, "fleet-mdm:jwt:device")). The benchmark starts the server
 * with a JWT_SECRET it knows, so it can give tens of thousands of seeded devices a session without
 * running a bcrypt compare for each; sessions themselves are exercised by the simulator and tests.
 */
export function mintDeviceToken(jwtSecret: string, deviceId: string, nowSec: number, ttlSec: number): string {
  const key = createHmac('sha256', jwtSecret).update('fleet-mdm:jwt:device').digest();
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({ iss: 'fleet-mdm', aud: 'device', sub: deviceId, iat: nowSec, exp: nowSec + ttlSec }),
  ).toString('base64url');
  const sig = createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}
