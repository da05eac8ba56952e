/**
 * `log`: tails a file from its end and fires for each new line that a tag's regex matches at its
 * start (Python's `re.match`, as Salt). Tag `salt/beacon/<id>/log/<tagname>`, data
 * `{match: "yes", raw: <line>, error: ""}` (Salt's shape; Salt moves `tag` into the event tag).
 * Rotation (a new file at the path) finishes the old file and reads the new one from its start;
 * truncation starts again from the beginning.
 */
import { open, stat, type FileHandle } from "node:fs/promises";
import { isAbsolute } from "node:path";
import type { Fields } from "../../fields.js";
import { definePlugin, type BeaconEvent, type BeaconInstance } from "../../plugin.js";

export interface LogConfig {
  /** The file to tail. Required, absolute. */
  readonly file: string;
  /** Tag name -> regex matched at the start of each line. */
  readonly tags: readonly { readonly name: string; readonly regex: RegExp }[];
}

/** Longest line kept whole; longer ones are cut (the rest is dropped). */
const MAX_LINE_BYTES = 64 * 1024;

function parse(f: Fields): LogConfig {
  const file = f.string("file");
  if (!isAbsolute(file)) f.fail("file", "must be an absolute path");
  const tags = f.requiredMap("tags");
  return {
    file,
    tags: tags.keys().map((name) => {
      const t = tags.map(name);
      t.onlyKeys(["regex"]);
      const src = t.string("regex");
      try {
        return { name, regex: new RegExp(`^(?:${src})`) };
      } catch (err) {
        return t.fail("regex", `is not a valid regex: ${(err as Error).message}`);
      }
    }),
  };
}

class LogTail implements BeaconInstance {
  private fh: FileHandle | undefined;
  private ino = -1;
  private pos = 0;
  private rest = Buffer.alloc(0);

  constructor(private readonly config: LogConfig) {}

  async poll(): Promise<BeaconEvent[]> {
    const s = await stat(this.config.file).catch(() => undefined);
    if (!s) throw new Error(`log file ${this.config.file} does not exist`);
    if (!this.fh) {
      await this.reopen(s.ino, s.size); // first look: start at the end, as Salt
      return [];
    }
    const lines: string[] = [];
    if (s.ino !== this.ino) {
      lines.push(...(await this.readToEnd()), ...this.flush());
      await this.reopen(s.ino, 0);
    } else if (s.size < this.pos) {
      this.pos = 0;
      this.rest = Buffer.alloc(0);
    }
    lines.push(...(await this.readToEnd()));
    return lines.flatMap((line) => this.match(line));
  }

  async stop(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  private async reopen(ino: number, pos: number): Promise<void> {
    await this.stop();
    this.fh = await open(this.config.file, "r");
    this.ino = ino;
    this.pos = pos;
    this.rest = Buffer.alloc(0);
  }

  private async readToEnd(): Promise<string[]> {
    const lines: string[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.fh!.read(buf, 0, buf.length, this.pos);
      if (bytesRead === 0) return lines;
      this.pos += bytesRead;
      let data = Buffer.concat([this.rest, buf.subarray(0, bytesRead)]);
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10)) {
        lines.push(data.subarray(0, nl).toString("utf8").replace(/\r$/, ""));
        data = data.subarray(nl + 1);
      }
      this.rest = Buffer.from(data.length > MAX_LINE_BYTES ? data.subarray(0, MAX_LINE_BYTES) : data);
    }
  }

  /** The last line of a rotated-away file, if it had no newline. */
  private flush(): string[] {
    const last = this.rest.length ? [this.rest.toString("utf8")] : [];
    this.rest = Buffer.alloc(0);
    return last;
  }

  private match(line: string): BeaconEvent[] {
    return this.config.tags
      .filter((t) => t.regex.test(line))
      .map((t) => ({ suffix: t.name, data: { match: "yes", raw: line, error: "" } }));
  }
}

export const logPlugin = definePlugin({
  type: "log",
  options: ["file", "tags"],
  parse,
  create: (config: LogConfig) => new LogTail(config),
});
