import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LineWriter } from "./line-writer.js";

function sink(highWaterMark = 1 << 20) {
  const writes: string[] = [];
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString("utf8"));
      done();
    },
  });
  return { stream, writes };
}

const turn = () => new Promise((r) => setImmediate(r));

describe("LineWriter", () => {
  it("writes the first line of a turn at once and the rest of the turn together, in order", async () => {
    const { stream, writes } = sink();
    const w = new LineWriter(stream);
    const first = w.write("a\n");
    expect(writes).toEqual(["a\n"]);
    const rest = [w.write("b\n"), w.write("c\n")];
    expect(writes).toEqual(["a\n"]);
    await Promise.all([first, ...rest]);
    expect(writes).toEqual(["a\n", "b\nc\n"]);
    await turn();
    w.write("d\n");
    expect(writes).toEqual(["a\n", "b\nc\n", "d\n"]);
  });

  it("writes every line at once while it is not busy (a lone request arms nothing)", async () => {
    const { stream, writes } = sink();
    let busy = false;
    const w = new LineWriter(stream, () => busy);
    w.write("a\n");
    w.write("b\n");
    expect(writes).toEqual(["a\n", "b\n"]);
    busy = true;
    w.write("c\n");
    w.write("d\n");
    w.write("e\n");
    expect(writes).toEqual(["a\n", "b\n", "c\n"]);
    await turn();
    expect(writes).toEqual(["a\n", "b\n", "c\n", "d\ne\n"]);
  });

  it("resolves a write the stream could not take at once after drain", async () => {
    const { stream, writes } = sink(4);
    const w = new LineWriter(stream);
    let done = false;
    const p = w.write("longer than four\n").then(() => {
      done = true;
    });
    expect(writes).toEqual(["longer than four\n"]);
    await p;
    expect(done).toBe(true);
  });

  it("rejects when there is no stream to write to (the peer is gone)", async () => {
    let stream: Writable | undefined = sink().stream;
    const w = new LineWriter(() => stream);
    await w.write("a\n");
    stream = undefined;
    const batched = w.write("b\n");
    await expect(batched).rejects.toThrow("Not connected");
    await turn();
    await expect(w.write("c\n")).rejects.toThrow("Not connected");
  });
});
