import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Creates an empty database with a random name (`<prefix>_<hex>`) in the server `adminUrl` points
 * at, and returns its URL: test files and benchmark runs each get their own and never meet.
 */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
