/**
 * The real photo the face tests use: scikit-image's astronaut.png (Eileen Collins, NASA, public domain), as
 * Debian's python3-skimage ships it. Never committed; installed with apt when missing (CI runs as root).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const PACKAGE = 'python3-skimage';
const FILE = 'skimage/data/astronaut.png';

function installedPath(): string | undefined {
  try {
    return execFileSync('dpkg', ['-L', PACKAGE], { encoding: 'utf8' }).split('\n').find((p) => p.endsWith(FILE) && existsSync(p));
  } catch {
    return undefined;
  }
}

export function astronautPhoto(): string {
  const found = installedPath();
  if (found) return found;
  const root = process.getuid?.() === 0;
  const apt = (args: string[]) => execFileSync(root ? 'apt-get' : 'sudo', root ? args : ['apt-get', ...args], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  // Two test files may get here at once: the second waits for the first one's dpkg lock.
  const wait = ['-o', 'DPkg::Lock::Timeout=300'];
  apt([...wait, 'update', '-qq']);
  apt([...wait, 'install', '-y', '-qq', '--no-install-recommends', PACKAGE]);
  const path = installedPath();
  if (!path) throw new Error(`${PACKAGE} installed but ${FILE} is not among its files`);
  return path;
}
