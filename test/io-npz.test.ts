/** .npz archives: what NpzWriter streams out, readNpz reads back (also with ZIP64 records); numpy.savez files read. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { NpzWriter, readNpz } from '../src/io/npz.js';
import { GOLDENS } from './helpers/golden.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ganvec-npz-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const arrays = {
  a: { data: Float32Array.of(1, -2.5, 3), shape: [3] },
  b: { data: new Float32Array(24).map((_, i) => i / 7), shape: [2, 1, 3, 4] },
  k: { data: BigInt64Array.of(5n), shape: [] },
};

for (const [what, zip64Beyond] of [['plain records', undefined], ['ZIP64 records', 100]] as const) {
  it(`reads back what it wrote (${what})`, () => {
    const path = join(dir, `${what.split(' ')[0]}.npz`);
    const w = new NpzWriter(path, zip64Beyond);
    for (const [name, t] of Object.entries(arrays)) w.add(name, t);
    w.close();
    const read = readNpz(path);
    assert.deepEqual([...read.keys()], ['a', 'b', 'k']);
    for (const [name, t] of Object.entries(arrays)) {
      assert.deepEqual(read.get(name)!.shape, t.shape, name);
      assert.deepEqual(read.get(name)!.data, t.data, name);
    }
  });
}

it('leaves nothing behind when abandoned, and keeps an existing file', async () => {
  const path = join(dir, 'kept.npz');
  const first = new NpzWriter(path);
  first.add('a', arrays.a);
  first.close();
  const second = new NpzWriter(path);
  second.add('b', arrays.b);
  second.abandon();
  assert.deepEqual([...readNpz(path).keys()], ['a']);
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  assert.equal(existsSync(join(dir, 'never.npz')), false);
});

it('reads a numpy.savez archive', () => {
  const replay = readNpz(`${GOLDENS}hdn-traj-a/replay.npz`);
  assert.deepEqual(replay.get('t0_z')!.shape, [4, 64]);
  assert.deepEqual(replay.get('t0_a_noise6')!.shape, [4, 1, 32, 32]);
  assert.equal(replay.get('t0_b_inject')!.shape.length, 0);
});
