/** Decoding the videos ganvec writes with Debian's ffmpeg tools, to check what is in them. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** Frames counted by decoding every one, the size and the frame rate, as ffprobe reports them. */
export async function probe(path: string): Promise<{ codec: string; width: number; height: number; frames: number; fps: string }> {
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,r_frame_rate', '-of', 'json', path,
  ]);
  const s = (JSON.parse(stdout) as { streams: Array<{ codec_name: string; width: number; height: number; nb_read_frames: string; r_frame_rate: string }> }).streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), fps: s.r_frame_rate };
}

/** Every frame as interleaved RGB bytes, concatenated. */
export async function decodeRgb(path: string): Promise<Buffer> {
  const { stdout } = await promisify(execFile)('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { encoding: 'buffer', maxBuffer: 1 << 28 });
  return stdout;
}
