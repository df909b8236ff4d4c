/**
 * An in-memory EventStore for Streamable HTTP resumability (2025 era): every SSE event gets an id
 * `<stream>_<seq>`; a client reconnecting with `Last-Event-ID` receives what it missed on that
 * stream. Each store keeps a bounded number of events, so a slow or absent client costs bounded
 * memory; events older than the window are gone and replay starts after what is kept.
 */
import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

interface StoredEvent {
  id: string;
  stream: string;
  message: JSONRPCMessage;
}

export class MemoryEventStore implements EventStore {
  private readonly events: StoredEvent[] = [];
  private seq = 0;

  constructor(private readonly capacity = 1000) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${++this.seq}`;
    this.events.push({ id, stream: streamId, message });
    if (this.events.length > this.capacity) this.events.shift();
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const cut = eventId.lastIndexOf("_");
    return cut > 0 ? eventId.slice(0, cut) : undefined;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const stream = await this.getStreamIdForEventId(lastEventId);
    if (!stream) return "";
    const after = Number(lastEventId.slice(lastEventId.lastIndexOf("_") + 1));
    for (const e of this.events) {
      if (e.stream !== stream) continue;
      if (Number(e.id.slice(e.id.lastIndexOf("_") + 1)) > after) await send(e.id, e.message);
    }
    return stream;
  }
}
