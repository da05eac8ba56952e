/**
 * A ustar archive of a few small regular files, as `POST /keys` answers (salt-api answers a tarball
 * of the key pair). Written here rather than with a library: one header block per file, the data
 * padded to 512 bytes, two zero blocks at the end (POSIX.1-1988 ustar).
 */

/** One file of the archive. */
export interface TarFile {
  /** A plain file name (no directories), at most 100 bytes. */
  readonly name: string;
  readonly data: string;
  /** Permission bits, e.g. 0o600. */
  readonly mode: number;
}

const BLOCK = 512;

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

/** The archive's bytes. */
export function tarball(files: readonly TarFile[], mtime = Math.floor(Date.now() / 1000)): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    if (!/^[A-Za-z0-9._-]{1,100}$/.test(f.name)) throw new Error(`bad tar member name ${f.name}`);
    const data = Buffer.from(f.data, "utf8");
    const h = Buffer.alloc(BLOCK, 0);
    h.write(f.name, 0, "utf8");
    h.write(octal(f.mode & 0o7777, 8), 100, "ascii");
    h.write(octal(0, 8), 108, "ascii"); // uid
    h.write(octal(0, 8), 116, "ascii"); // gid
    h.write(octal(data.length, 12), 124, "ascii");
    h.write(octal(mtime, 12), 136, "ascii");
    h.write("        ", 148, "ascii"); // checksum field counts as spaces
    h.write("0", 156, "ascii"); // regular file
    h.write("ustar\0", 257, "ascii");
    h.write("00", 263, "ascii");
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
    parts.push(h, data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK, 0));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}
