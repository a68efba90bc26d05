// The original's uppercase guest (spec 4 §5.1), written in JavaScript for componentize-js.
//
// Every packet of every input port, in order, goes to port `out` with its metadata
// unchanged and its bytes ASCII-uppercased; a control payload fails the whole call with
// unsupported-payload. A bytes payload "boom" fails it with guest-failure instead.
// Build: pureflow wasm build uppercase_guest.js -o uppercase.wasm

export const batch = {
  invoke(inputs) {
    const packets = [];
    for (const batch of inputs) {
      for (const packet of batch.packets) {
        const payload = packet.payload;
        if (payload.tag !== "bytes") {
          throw { tag: "unsupported-payload", val: "uppercase guest accepts only bytes payloads" };
        }
        const data = payload.val;
        if (new TextDecoder().decode(data) === "boom") {
          throw { tag: "guest-failure", val: "boom" };
        }
        const out = new Uint8Array(data.length);
        for (let i = 0; i < data.length; i++) {
          const c = data[i];
          out[i] = c >= 97 && c <= 122 ? c - 32 : c;
        }
        packets.push({ metadata: packet.metadata, payload: { tag: "bytes", val: out } });
      }
    }
    return [{ portId: "out", packets }];
  },
};
