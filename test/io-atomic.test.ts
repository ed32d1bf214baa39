import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeFileAtomic } from '../src/io/atomic.js';

const scratch = mkdtempSync(join(tmpdir(), 'ganvec-io-atomic-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('writeFileAtomic replaces the file whole and leaves no temporary file', async () => {
  const parent = join(scratch, 'replacing');
  mkdirSync(parent);
  const path = join(parent, 'out.txt');
  await writeFileAtomic(path, 'first');
  await writeFileAtomic(path, Uint8Array.of(0x73, 0x65, 0x63, 0x6f, 0x6e, 0x64));
  assert.equal(readFileSync(path, 'utf8'), 'second');
  assert.deepEqual(readdirSync(parent), ['out.txt']);
});

test('writeFileAtomic cleans up its temporary file when the rename fails', async () => {
  // Renaming a file over a non-empty directory fails after the data was written.
  const parent = join(scratch, 'failing');
  const occupied = join(parent, 'occupied');
  mkdirSync(occupied, { recursive: true });
  writeFileSync(join(occupied, 'inside'), 'y');
  await assert.rejects(writeFileAtomic(occupied, 'data'));
  assert.deepEqual(readdirSync(parent), ['occupied']);
});
