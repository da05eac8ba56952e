/** Reading JSON log lines back as written (JSON.parse would hide a key written twice). */

/** The keys that appear more than once in one object of a JSON text, e.g. `["component"]`. */
export function repeatedKeys(json: string): string[] {
  // One open container per level: an object's keys seen so far, or null for an array.
  const open: (Set<string> | null)[] = [];
  let expectKey = false;
  const repeated: string[] = [];
  for (let i = 0; i < json.length; i++) {
    const ch = json[i]!;
    if (ch === '"') {
      let s = "";
      for (i++; json[i] !== '"'; i++) s += json[i] === "\\" ? json[i]! + json[++i]! : json[i]!;
      const keys = open.at(-1);
      if (expectKey && keys) {
        if (keys.has(s)) repeated.push(s);
        keys.add(s);
      }
      expectKey = false;
    } else if (ch === "{") {
      open.push(new Set());
      expectKey = true;
    } else if (ch === "[") {
      open.push(null);
      expectKey = false;
    } else if (ch === "}" || ch === "]") open.pop();
    else if (ch === ",") expectKey = open.at(-1) instanceof Set;
  }
  return repeated;
}

/** The JSON lines of a log (other lines, such as a banner, are left out). */
export function logLines(text: string): string[] {
  return text.split("\n").filter((l) => l.startsWith("{"));
}
