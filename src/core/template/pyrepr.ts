/**
 * Python's text of values, as Jinja prints them in Salt: `str()` of a number is Python's (`1e-05`,
 * `1e+16`, `0.1`), and a list or dict prints as its `repr()` (`{'a': None, 'b': [True, 1.5]}`).
 */

/**
 * Python's repr() of a number: a safe integer is an int, any other number a float (JSON does not
 * tell 2 from 2.0; beyond 2^53 a JS number has lost an int's digits, so it prints as the float).
 */
export function pyNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  if (Number.isSafeInteger(n)) return String(n);
  return pyFloat(n);
}

/** repr() of a non-integral float: shortest digits, fixed notation for exponents -4..15, else `d.dde±XX`. */
function pyFloat(n: number): string {
  const [mant = "", expText = "0"] = n.toExponential().split("e");
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace(/[-.]/g, "");
  if (exp >= -4 && exp < 16) {
    let s: string;
    if (exp < 0) s = `0.${"0".repeat(-exp - 1)}${digits}`;
    else if (digits.length > exp + 1) s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    else s = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
    return (neg ? "-" : "") + s;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp));
  return `${neg ? "-" : ""}${m}e${exp < 0 ? "-" : "+"}${e}`;
}

/** Characters Python's str.isprintable() rejects (all but the space among separators). */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;
const NON_PRINTABLE_G = new RegExp(NON_PRINTABLE.source, "gu");

/** Python's repr() of a string: single quotes unless it holds `'` and no `"`, Python's escapes. */
export function pyReprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let body = s.replace(/\\/g, "\\\\");
  if (q === "'") body = body.replace(/'/g, "\\'");
  body = body.replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
  if (NON_PRINTABLE.test(body)) body = body.replace(NON_PRINTABLE_G, escapeChar);
  return q + body + q;
}

function escapeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, "0")}`;
  if (cp < 0x10000) return `\\u${cp.toString(16).padStart(4, "0")}`;
  return `\\U${cp.toString(16).padStart(8, "0")}`;
}

/** Python's repr() of a JSON-like value. */
export function pyRepr(v: unknown): string {
  if (typeof v === "string") return pyReprString(v);
  if (v === null || v === undefined) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "number") return pyNumber(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (typeof v === "object") {
    return `{${Object.entries(v).map(([k, x]) => `${pyReprString(k)}: ${pyRepr(x)}`).join(", ")}}`;
  }
  return pyReprString(String(v));
}
