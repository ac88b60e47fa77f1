// Box arithmetic in image pixels (x, y the top-left corner), shared by the editor; no DOM here.

export const HANDLES = ["nw", "n", "ne", "e", "se", "s", "sw", "w"];
// Smallest side a box may be given by a drag or a key, in image pixels (the API only asks for > 0).
export const MIN_SIDE = 1;

export function clamp(value, lo, hi) {
  return Math.min(hi, Math.max(lo, value));
}

// A client (screen) point as image pixels, from the image element's on-screen rectangle: right whatever the
// zoom, pan or CSS scaling, since the rectangle is measured after all of them.
export function toImagePoint(clientX, clientY, rect, width, height) {
  return {
    x: ((clientX - rect.left) * width) / rect.width,
    y: ((clientY - rect.top) * height) / rect.height,
  };
}

// The box spanned by two corner points, kept inside the image.
export function boxFromCorners(a, b, width, height) {
  const x0 = clamp(Math.min(a.x, b.x), 0, width);
  const y0 = clamp(Math.min(a.y, b.y), 0, height);
  const x1 = clamp(Math.max(a.x, b.x), 0, width);
  const y1 = clamp(Math.max(a.y, b.y), 0, height);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

// ``box`` moved by (dx, dy), stopped at the image's edges.
export function moved(box, dx, dy, width, height) {
  return {
    ...box,
    x: clamp(box.x + dx, 0, width - box.w),
    y: clamp(box.y + dy, 0, height - box.h),
  };
}

// ``box`` with the edges a handle names ("n", "se", …) moved by (dx, dy); an edge dragged past the opposite
// one stops MIN_SIDE short of it, and no edge leaves the image.
export function resized(box, handle, dx, dy, width, height) {
  let x0 = box.x;
  let y0 = box.y;
  let x1 = box.x + box.w;
  let y1 = box.y + box.h;
  if (handle.includes("w")) x0 = clamp(x0 + dx, 0, x1 - MIN_SIDE);
  if (handle.includes("e")) x1 = clamp(x1 + dx, x0 + MIN_SIDE, width);
  if (handle.includes("n")) y0 = clamp(y0 + dy, 0, y1 - MIN_SIDE);
  if (handle.includes("s")) y1 = clamp(y1 + dy, y0 + MIN_SIDE, height);
  return { ...box, x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

// Where a handle sits on a box.
export function handlePoint(box, handle) {
  const x = handle.includes("w") ? box.x : handle.includes("e") ? box.x + box.w : box.x + box.w / 2;
  const y = handle.includes("n") ? box.y : handle.includes("s") ? box.y + box.h : box.y + box.h / 2;
  return { x, y };
}

function round2(value) {
  return Math.round(value * 100) / 100;
}

// The box as sent: corners rounded to 0.01 px (so x + w never passes the edge by rounding), inside the image.
export function wireBox(box, width, height) {
  const x0 = clamp(round2(box.x), 0, width);
  const y0 = clamp(round2(box.y), 0, height);
  const x1 = clamp(round2(box.x + box.w), 0, width);
  const y1 = clamp(round2(box.y + box.h), 0, height);
  return { x: x0, y: y0, w: round2(x1 - x0), h: round2(y1 - y0), label: box.label };
}
