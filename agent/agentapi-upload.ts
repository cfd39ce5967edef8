import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { readBody, type ErrorDetail } from './agentapi-http';

export const UPLOAD_FILE_LIMIT = 10 * 1024 * 1024;
// Multipart framing around a maximal file is small; this slack keeps a 10 MiB file acceptable.
const MULTIPART_SLACK = 64 * 1024;

export type UploadOutcome =
  | { ok: true; filePath: string }
  | { ok: false; status: 400 | 422; detail: string; errors: ErrorDetail[] };

const TOO_BIG: UploadOutcome = {
  ok: false,
  status: 400,
  detail: 'file size exceeds 10MB limit',
  errors: [{ message: 'file size exceeds 10MB limit', location: 'body.file' }],
};

function unprocessable(message: string, location: string): UploadOutcome {
  return { ok: false, status: 422, detail: 'validation failed', errors: [{ message, location }] };
}

/** Client filenames are untrusted: keep only the last path component, whatever the separator. */
export function safeFileName(name: string): string {
  const base = basename(name.replace(/\\/g, '/'));
  return base === '' || base === '.' || base === '..' ? 'upload' : base;
}

/**
 * Saves uploads as `<root>/<first 16 hex of sha256>/<name>` like agentapi, so identical content
 * lands in the same place and two different files with one name cannot overwrite each other.
 * The root is created on first use and removed on close.
 */
export class UploadStore {
  private root: Promise<string> | null = null;

  async save(req: IncomingMessage): Promise<UploadOutcome> {
    const contentType = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data\s*;/i.test(contentType)) {
      req.resume();
      return unprocessable('expected multipart/form-data request body', 'body');
    }
    const body = await readBody(req, UPLOAD_FILE_LIMIT + MULTIPART_SLACK);
    if (body.kind === 'too-large') return TOO_BIG;
    let form: FormData;
    try {
      form = await new Response(body.body, { headers: { 'content-type': contentType } }).formData();
    } catch {
      return unprocessable('malformed multipart body', 'body');
    }
    const file = form.get('file');
    if (!(file instanceof File)) return unprocessable('expected required property file to be present', 'body');
    if (file.size > UPLOAD_FILE_LIMIT) return TOO_BIG;
    const data = Buffer.from(await file.arrayBuffer());
    const digest = createHash('sha256').update(data).digest('hex').slice(0, 16);
    const dir = join(await this.rootDir(), digest);
    await mkdir(dir, { recursive: true });
    const filePath = join(dir, safeFileName(file.name));
    await writeFile(filePath, data);
    return { ok: true, filePath };
  }

  async dispose(): Promise<void> {
    const root = this.root;
    this.root = null;
    if (root) await rm(await root, { recursive: true, force: true });
  }

  private rootDir(): Promise<string> {
    this.root ??= mkdtemp(join(tmpdir(), 'agentapi-uploads-')).catch((err: unknown) => {
      // Forget the failure so the next upload retries instead of failing forever.
      this.root = null;
      throw err;
    });
    return this.root;
  }
}
