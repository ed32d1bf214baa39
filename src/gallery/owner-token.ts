/**
 * A visitor's proof of ownership: 32 random bytes, given once in an HttpOnly, SameSite=Strict cookie
 * `ganvec_owner=<visitor id>.<token>`. Only the token's sha256 is stored, and a presented token is
 * checked by comparing hashes in constant time, so neither the database nor the timing of a refusal
 * gives a token away.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const COOKIE = 'ganvec_owner';
const TOKEN_BYTES = 32;
const TEN_YEARS = 10 * 365 * 24 * 3600;

export interface OwnerToken {
  token: Buffer;
  hash: Buffer;
}

export function newOwnerToken(): OwnerToken {
  const token = randomBytes(TOKEN_BYTES);
  return { token, hash: hashToken(token) };
}

export function hashToken(token: Buffer): Buffer {
  return createHash('sha256').update(token).digest();
}

export function ownerCookie(visitorId: number, token: Buffer): string {
  return `${COOKIE}=${visitorId}.${token.toString('base64url')}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${TEN_YEARS}`;
}

/** The visitor id and token a request's Cookie header presents, if well-formed. */
export function presentedToken(cookieHeader: string | undefined): { visitorId: number; token: Buffer } | undefined {
  if (!cookieHeader || cookieHeader.length > 4096) return undefined;
  for (const part of cookieHeader.split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name !== COOKIE || value === undefined) continue;
    const m = /^([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return undefined;
    const token = Buffer.from(m[2]!, 'base64url');
    const visitorId = Number(m[1]);
    // Visitor ids are the database's INTEGER.
    return token.length === TOKEN_BYTES && visitorId <= 2 ** 31 - 1 ? { visitorId, token } : undefined;
  }
  return undefined;
}

/** Whether `token` hashes to `storedHash`, in time independent of where they differ. */
export function tokenMatches(token: Buffer, storedHash: Buffer | undefined): boolean {
  const hash = hashToken(token);
  // Compare against a same-length stand-in when the visitor is unknown, so that case takes the same time.
  const stored = storedHash?.length === hash.length ? storedHash : Buffer.alloc(hash.length);
  return timingSafeEqual(hash, stored) && storedHash !== undefined;
}
