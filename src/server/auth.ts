// `Authorization: Bearer KEY` on the API routes when the server has a key. The comparison is of SHA-256
// digests in constant time, so neither the key's content nor its length leaks through timing; the key is
// never logged or echoed.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** An `onRequest` hook that throws a 401 ApiError unless the request carries `key`. */
export function bearerAuth(key: string): (request: FastifyRequest) => Promise<void> {
  const want = digest(key);
  return async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      throw new ApiError(401, 'no API key: send the header Authorization: Bearer <key>', { teiType: 'Unauthorized' });
    }
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m || !timingSafeEqual(digest(m[1]!), want)) {
      throw new ApiError(401, 'incorrect API key', { code: 'invalid_api_key', teiType: 'Unauthorized' });
    }
  };
}
