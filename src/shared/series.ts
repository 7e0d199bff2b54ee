// Thinning and smoothing of metric series for line charts. Pure and allocation-light so the
// extension host (before posting a history to a webview) and the webview itself can share it.

/**
 * Indices of the points to draw so that a line through them looks like the full series at a
 * width of about `maxPoints / 2` pixels: per equal-width x bucket, the lowest and highest finite
 * y, plus the first NaN so gaps stay visible. Point `i` falls into bucket
 * `floor((x[i] - x[0]) * (B / (x[last] - x[0])))`, clamped to `[0, B - 1]`.
 *
 * `x` must be non-decreasing. Returns sorted, de-duplicated indices, never more than
 * `maxPoints`, always including the first and the last index.
 *
 * NaN markers only get the slots the extremes leave free (buckets with fewer than two finite
 * points, an odd `maxPoints`), so on dense noisy data with an even budget a lone NaN can go
 * unmarked. NaN runs that cover whole buckets free slots of their own, so they usually are.
 */
export function decimateMinMax(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  maxPoints: number,
): Uint32Array {
  if (!(maxPoints >= 2)) throw new RangeError(`maxPoints must be at least 2, got ${maxPoints}`);
  if (x.length !== y.length) {
    throw new RangeError(`x and y differ in length (${x.length} vs ${y.length})`);
  }
  const n = x.length;
  if (n <= maxPoints) return allIndices(n);

  const budget = Math.floor(maxPoints);
  const buckets = Math.max(1, Math.floor((budget - 2) / 2));
  const last = n - 1;
  const minIdx = new Int32Array(buckets).fill(-1);
  const maxIdx = new Int32Array(buckets).fill(-1);
  const nanIdx = new Int32Array(buckets).fill(-1);
  const minVal = new Float64Array(buckets);
  const maxVal = new Float64Array(buckets);

  const x0 = x[0]!;
  const span = x[last]! - x0;
  // A zero or non-finite range has no width to divide, so everything shares one bucket.
  const scale = span > 0 && Number.isFinite(span) ? buckets / span : 0;
  const lastBucket = buckets - 1;

  // The current bucket lives in locals and is written back only when x moves on, which it
  // does at most once per bucket for a non-decreasing x.
  let cur = 0;
  let lo = -1;
  let hi = -1;
  let loV = 0;
  let hiV = 0;
  let na = -1;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    let b = Math.floor((x[i]! - x0) * scale);
    // The negated test also sends a NaN x to bucket 0 instead of indexing with NaN.
    if (!(b >= 0)) b = 0;
    else if (b > lastBucket) b = lastBucket;
    if (b !== cur) {
      minIdx[cur] = lo;
      maxIdx[cur] = hi;
      minVal[cur] = loV;
      maxVal[cur] = hiV;
      nanIdx[cur] = na;
      cur = b;
      lo = minIdx[b]!;
      hi = maxIdx[b]!;
      loV = minVal[b]!;
      hiV = maxVal[b]!;
      na = nanIdx[b]!;
    }
    if (v - v === 0) {
      if (lo < 0) {
        lo = hi = i;
        loV = hiV = v;
      } else if (v < loV) {
        lo = i;
        loV = v;
      } else if (v > hiV) {
        hi = i;
        hiV = v;
      }
    } else if (v !== v && na < 0) {
      na = i;
    }
  }
  minIdx[cur] = lo;
  maxIdx[cur] = hi;
  nanIdx[cur] = na;

  if (budget < 4) {
    // A single bucket whose two extremes may not both fit between the two ends.
    return smallBudget(x, y, minIdx[0]!, maxIdx[0]!, budget);
  }

  // The extremes of B buckets plus both ends fit the budget by construction; NaN markers get
  // whatever is left, spread evenly so gaps across the whole range stay marked.
  let kept = 2;
  let nans = 0;
  for (let b = 0; b < buckets; b++) {
    const minI = minIdx[b]!;
    const maxI = maxIdx[b]!;
    const nanI = nanIdx[b]!;
    if (minI > 0 && minI < last) kept++;
    if (maxI !== minI && maxI > 0 && maxI < last) kept++;
    if (nanI > 0 && nanI < last) nans++;
  }
  const nanRoom = Math.min(nans, budget - kept);

  const out = new Uint32Array(kept + nanRoom);
  let len = 0;
  let sorted = true;
  const push = (i: number): void => {
    if (i <= 0 || i >= last) return;
    if (len > 0 && i <= out[len - 1]!) sorted = false;
    out[len++] = i;
  };
  out[len++] = 0;
  let nanRank = 0;
  for (let b = 0; b < buckets; b++) {
    const minI = minIdx[b]!;
    const maxI = maxIdx[b]!;
    let nanI = nanIdx[b]!;
    if (nanI > 0 && nanI < last) {
      const r = nanRank++;
      if (Math.floor(((r + 1) * nanRoom) / nans) === Math.floor((r * nanRoom) / nans)) nanI = -1;
    }
    // At most three candidates per bucket: order them by index without a general sort.
    let a = minI < maxI ? minI : maxI;
    let c = minI < maxI ? maxI : minI;
    if (a === c) c = -1;
    if (nanI >= 0) {
      if (a < 0 || nanI < a) {
        const t = a;
        a = nanI;
        nanI = t;
      }
      if (c >= 0 && nanI > c) {
        const t = c;
        c = nanI;
        nanI = t;
      }
    }
    push(a);
    push(nanI);
    push(c);
  }
  out[len++] = last;
  // Only an x that breaks the non-decreasing contract lands here; sorting the short output
  // keeps the promise of ordered indices without touching the input.
  if (!sorted) out.subarray(1, len - 1).sort();
  return len === out.length ? out : out.slice(0, len);
}

function allIndices(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function smallBudget(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  lo: number,
  hi: number,
  budget: number,
): Uint32Array {
  const last = x.length - 1;
  const inner: number[] = [];
  if (lo > 0 && lo < last) inner.push(lo);
  if (hi !== lo && hi > 0 && hi < last) inner.push(hi);
  if (inner.length > budget - 2) {
    if (budget === 2) inner.length = 0;
    else {
      // Keep the extreme that strays further from the straight line the ends alone would draw.
      const [p, q] = inner as [number, number];
      if (chordDistance(x, y, q) > chordDistance(x, y, p)) inner.splice(0, 1);
      else inner.length = 1;
    }
  }
  inner.sort((a, b) => a - b);
  return Uint32Array.from([0, ...inner, last]);
}

function chordDistance(x: ArrayLike<number>, y: ArrayLike<number>, i: number): number {
  const last = x.length - 1;
  const x0 = x[0]!;
  const y0 = y[0]!;
  const y1 = y[last]!;
  const span = x[last]! - x0;
  let ref: number;
  if (Number.isFinite(y0) && Number.isFinite(y1)) {
    ref = span > 0 && Number.isFinite(span) ? y0 + ((y1 - y0) * (x[i]! - x0)) / span : y0;
  } else if (Number.isFinite(y0)) ref = y0;
  else if (Number.isFinite(y1)) ref = y1;
  else ref = 0;
  const d = Math.abs(y[i]! - ref);
  return Number.isFinite(d) ? d : 0;
}

/** Gathers `src[indices[i]]`, e.g. the x or y column of a decimated series. */
export function pickIndices(src: ArrayLike<number>, indices: Uint32Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = src[indices[i]!]!;
  return out;
}

/**
 * TensorBoard's debiased exponential moving average. Debiasing keeps the first points from
 * being dragged towards the zero the accumulator starts at. `weight` is clamped to
 * `[0, 0.999]`.
 */
export function emaSmooth(y: ArrayLike<number>, weight: number): Float64Array {
  const n = y.length;
  const out = new Float64Array(n);
  const w = weight > 0 ? Math.min(weight, 0.999) : 0;
  let first = NaN;
  let constant = true;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    out[i] = v;
    if (v - v !== 0) continue;
    if (first !== first) first = v;
    else if (v !== first) constant = false;
  }
  // Mathematically the debiased average of a constant is that constant, but the float
  // division need not round back to it exactly; like TensorBoard, return it as is.
  if (w === 0 || constant) return out;

  let last = 0;
  let numAccum = 0;
  let debias = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    // A NaN or infinite value would poison every later point, so it passes through alone.
    if (v - v !== 0) continue;
    last = last * w + (1 - w) * v;
    numAccum++;
    // Once w ** numAccum drops below half an ulp of 1 the debias is exactly 1 for good, and
    // skipping the power there makes long series several times faster.
    if (debias !== 1) debias = 1 - w ** numAccum;
    out[i] = last / debias;
  }
  return out;
}

/**
 * Keeps a series that grows by live appends within `maxPoints`, thinning `x`, `y` and every
 * parallel column in `extra` with the same indices. Returns the inputs themselves when they
 * already fit.
 */
export function boundPoints(
  x: Float64Array,
  y: Float64Array,
  extra: Float64Array[],
  maxPoints: number,
): { x: Float64Array; y: Float64Array; extra: Float64Array[] } {
  // Checked up front so a bad call fails the same way before and after the series outgrows
  // the budget, not only once it does.
  if (!(maxPoints >= 2)) throw new RangeError(`maxPoints must be at least 2, got ${maxPoints}`);
  for (const col of [y, ...extra]) {
    if (col.length !== x.length) {
      throw new RangeError(`column length ${col.length} differs from x (${x.length})`);
    }
  }
  if (x.length <= maxPoints) return { x, y, extra };
  const idx = decimateMinMax(x, y, maxPoints);
  return {
    x: pickIndices(x, idx),
    y: pickIndices(y, idx),
    extra: extra.map((col) => pickIndices(col, idx)),
  };
}
