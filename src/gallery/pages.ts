/**
 * The gallery's HTML: rooms, a room's wall of thumbnails, a picture's page. Plain forms and links, no
 * script (the Content-Security-Policy forbids any). Everything quoted from the manifest is escaped.
 * Pages show pictures' names, rooms and scores, never seeds, digests or file names.
 */
import type { GalleryRoom } from './manifest.js';

export type PictureStatus = 'available' | 'taken' | 'yours';

export const STYLESHEET = `
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
a { color: #225; }
nav { margin-bottom: 1rem; }
ul.rooms { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1.5rem; }
ul.wall { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 1rem; }
ul.wall img, ul.rooms img { width: 100%; image-rendering: auto; display: block; }
.picture img { width: min(100%, 32rem); }
.status { font-size: 0.9rem; color: #666; }
.yours { color: #070; }
.taken { color: #a00; }
button, a.download { font-size: 1.1rem; padding: 0.4rem 1rem; }
`;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/style.css"></head>
<body>${body}</body></html>
`;
}

const statusText: Record<PictureStatus, string> = { available: 'available', taken: 'taken', yours: 'yours' };

export function roomsPage(rooms: readonly GalleryRoom[], claimed: ReadonlyMap<string, number>): string {
  const items = rooms.map((r) => {
    const cover = r.pictures[0];
    const taken = r.pictures.filter((p) => claimed.has(p.id)).length;
    return `<li><a href="/rooms/${r.slug}">${cover ? `<img src="/thumbnails/${cover.id}.png" alt="" width="160" height="160">` : ''}
<strong>${escapeHtml(r.name)}</strong></a><div class="status">${r.pictures.length} pictures, ${r.pictures.length - taken} available</div></li>`;
  });
  return page('The gallery', `<h1>The gallery</h1><ul class="rooms">${items.join('\n')}</ul>`);
}

export function roomPage(room: GalleryRoom, status: (id: string) => PictureStatus): string {
  const items = room.pictures.map((p) => {
    const s = status(p.id);
    return `<li><a href="/pictures/${p.id}"><img src="/thumbnails/${p.id}.png" alt="${escapeHtml(p.query)}">${escapeHtml(p.query)}</a>
<div class="status ${s}">${statusText[s]}</div></li>`;
  });
  return page(room.name, `<nav><a href="/">All rooms</a></nav><h1>${escapeHtml(room.name)}</h1>
<ul class="wall">${items.join('\n')}</ul>`);
}

export function picturePage(room: GalleryRoom, id: string, status: PictureStatus, message?: string): string {
  const p = room.pictures.find((x) => x.id === id)!;
  const action = {
    available: `<form method="post" action="/pictures/${id}/claim"><button type="submit">Claim this picture</button></form>`,
    yours: `<p class="yours">This picture is yours.</p><p><a class="download" href="/pictures/${id}/full.png" download>Download full size</a></p>`,
    taken: '<p class="taken">This picture is taken: it belongs to someone else.</p>',
  }[status];
  return page(`${p.query} — ${room.name}`, `<nav><a href="/">All rooms</a> › <a href="/rooms/${room.slug}">${escapeHtml(room.name)}</a></nav>
<div class="picture"><h1>${escapeHtml(p.query)}</h1>
<img src="/thumbnails/${id}.png" alt="${escapeHtml(p.query)}">
<p class="status">in ${escapeHtml(room.name)}, CLIP score ${p.score.toFixed(3)}</p>
${message ? `<p class="${status}">${escapeHtml(message)}</p>` : ''}${action}</div>`);
}

export function messagePage(title: string, text: string): string {
  return page(title, `<nav><a href="/">All rooms</a></nav><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`);
}
