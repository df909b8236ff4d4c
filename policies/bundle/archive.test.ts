import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  type ArchiveLimits,
  DEFAULT_ARCHIVE_LIMITS,
  readBundleArchive,
  writeBundleArchive,
} from "./archive.js";
import { type RawEntry, rawTar, rejectionReason } from "./fixtures/bundles.js";

describe("readBundleArchive", () => {
  it("round-trips the deterministic writer, including long paths through PAX", () => {
    const long = `${"d/".repeat(60)}data.json`;
    const files = new Map<string, Uint8Array>([
      ["data.json", Buffer.from('{"a":1}')],
      ["policy.wasm", Buffer.from([0, 97, 115, 109])],
      [long, Buffer.from("{}")],
    ]);
    const bytes = writeBundleArchive(files);
    expect(writeBundleArchive(files).equals(bytes)).toBe(true);
    const back = readBundleArchive(bytes);
    expect([...back.keys()]).toEqual(["data.json", "policy.wasm", long]);
    expect(Buffer.from(back.get(long) as Uint8Array).toString()).toBe("{}");
  });

  it("accepts OPA's leading slash, ./ prefixes and folders", () => {
    const files = readBundleArchive(
      gzipSync(
        rawTar([
          { name: "./", type: "5" },
          { name: "./a/b.rego", body: "x" },
          { name: "/c.json", body: "{}" },
        ]),
      ),
    );
    expect([...files.keys()]).toEqual(["a/b.rego", "c.json"]);
  });

  const cases: Array<[string, RawEntry[], string]> = [
    ["traversal", [{ name: "../escape.rego", body: "x" }], "path_traversal"],
    ["nested traversal", [{ name: "a/../../b", body: "x" }], "path_traversal"],
    ["absolute (double slash)", [{ name: "//etc/passwd", body: "x" }], "absolute_path"],
    ["absolute (drive)", [{ name: "C:/x", body: "x" }], "absolute_path"],
    ["backslash", [{ name: "a\\..\\b", body: "x" }], "bad_path"],
    ["symlink", [{ name: "data.json", type: "2" }], "link_entry"],
    ["hard link", [{ name: "data.json", type: "1" }], "link_entry"],
    ["device", [{ name: "dev", type: "3" }], "unsupported_entry"],
    [
      "duplicate",
      [
        { name: "/data.json", body: "{}" },
        { name: "data.json", body: "{}" },
      ],
      "duplicate_entry",
    ],
    ["bad checksum", [{ name: "data.json", body: "{}", badChecksum: true }], "bad_tar"],
  ];
  it.each(cases)("rejects %s", (_label, entries, expected) => {
    expect(rejectionReason(() => readBundleArchive(gzipSync(rawTar(entries))))).toBe(expected);
  });

  it("rejects too many entries, long paths, non-gzip and oversized archives", () => {
    const small: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 3, maxPathBytes: 20 };
    const many = rawTar([1, 2, 3, 4].map((i) => ({ name: `f${i}`, body: "x" })));
    expect(rejectionReason(() => readBundleArchive(gzipSync(many), small))).toBe("too_many_entries");
    const longName = rawTar([{ name: "x".repeat(30), body: "x" }]);
    expect(rejectionReason(() => readBundleArchive(gzipSync(longName), small))).toBe("path_too_long");
    expect(rejectionReason(() => readBundleArchive(rawTar([{ name: "a", body: "x" }])))).toBe("not_gzip");
    const big = gzipSync(rawTar([{ name: "a", body: Buffer.alloc(4096, 1) }]));
    const tight = { ...DEFAULT_ARCHIVE_LIMITS, maxCompressedBytes: big.length - 1 };
    expect(rejectionReason(() => readBundleArchive(big, tight))).toBe("compressed_too_large");
  });

  it("stops a gzip bomb at the uncompressed limit", () => {
    // 64 MiB of zeros compresses to ~64 KiB; the reader must refuse it without inflating it all.
    const bomb = gzipSync(rawTar([{ name: "data.json", body: Buffer.alloc(64 * 1024 * 1024) }]));
    expect(bomb.length).toBeLessThan(128 * 1024);
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxUncompressedBytes: 1024 * 1024 };
    expect(rejectionReason(() => readBundleArchive(bomb, limits))).toBe("uncompressed_too_large");
  });

  it("rejects a truncated archive", () => {
    const tar = rawTar([{ name: "a", body: Buffer.alloc(2000, 1) }]);
    expect(rejectionReason(() => readBundleArchive(gzipSync(tar.subarray(0, 1024))))).toBe("bad_tar");
  });
});
