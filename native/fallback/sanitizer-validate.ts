/**
 * Validators applied to sanitizer matches: checksums and entropy. Mirrors
 * native/core/src/sanitizer/validate.rs operation for operation, so both cores accept the same
 * matches. Spans arrive as UTF-8 bytes, exactly what the Rust side sees.
 */

/** Shannon entropy in bits per byte. */
export function shannonEntropy(span: Uint8Array): number {
  if (span.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (const b of span) counts[b] = (counts[b] ?? 0) + 1;
  const n = span.length;
  let h = 0;
  for (const c of counts) {
    if (c > 0) {
      const p = c / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

const isDigit = (b: number) => b >= 0x30 && b <= 0x39;

function paymentCard(span: Uint8Array): boolean {
  const d: number[] = [];
  for (const b of span) if (isDigit(b)) d.push(b - 0x30);
  if (d.length < 13 || d.length > 19) return false;
  const [a, b] = d as [number, number];
  const issuer =
    a === 4 ||
    (a === 5 && b >= 1 && b <= 5) ||
    (a === 2 && b >= 2 && b <= 7) ||
    (a === 3 && (b === 4 || b === 7)) ||
    a === 6;
  if (!issuer) return false;
  let sum = 0;
  for (let i = 0; i < d.length; i++) {
    let v = d[d.length - 1 - i] as number;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return sum % 10 === 0;
}

function iban(span: Uint8Array): boolean {
  const chars = span.filter((b) => b !== 0x20);
  if (chars.length < 15 || chars.length > 34) return false;
  let rem = 0;
  const rotated = [...chars.subarray(4), ...chars.subarray(0, 4)];
  for (const c of rotated) {
    if (isDigit(c)) rem = (rem * 10 + (c - 0x30)) % 97;
    else if (c >= 0x41 && c <= 0x5a) rem = (rem * 100 + (c - 0x41 + 10)) % 97;
    else return false;
  }
  return rem === 1;
}

function phone(span: Uint8Array): boolean {
  let n = 0;
  for (const b of span) if (isDigit(b)) n++;
  return n >= 9 && n <= 15;
}

function ipv6(span: Uint8Array): boolean {
  const text = Buffer.from(span).toString("latin1");
  const compressed = text.split("::").length - 1;
  if (compressed > 1) return false;
  const groups = text.split(":").filter((g) => g.length > 0).length;
  if (compressed === 0 && groups !== 8) return false;
  if (compressed === 1 && (groups > 7 || groups < 2)) return false;
  return span.some(isDigit);
}

/** Runs the named validator. */
export function checkSpan(kind: string, span: Uint8Array): boolean {
  switch (kind) {
    case "payment_card":
      return paymentCard(span);
    case "iban":
      return iban(span);
    case "phone":
      return phone(span);
    case "ipv6":
      return ipv6(span);
    default:
      return false;
  }
}
