// A WebAssembly guest in JavaScript: upper-case every packet, bytes or text.
//
// Build: pureflow wasm build upper_guest.js -o build/upper-js.wasm (componentize-js).
// `invoke` gets the port batches ({portId, packets}); a packet is {metadata, payload},
// the payload {tag: "bytes", val: Uint8Array} or {tag: "control", val: JSON text}.
// Return the output port batches; throw {tag: "guest-failure", val: "why"} to fail.

function upperBytes(data) {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    out[i] = c >= 97 && c <= 122 ? c - 32 : c; // ASCII a-z only, like bytes.upper()
  }
  return out;
}

export const batch = {
  invoke(inputs) {
    const packets = [];
    for (const batch of inputs) {
      for (const packet of batch.packets) {
        let payload = packet.payload;
        if (payload.tag === "bytes") {
          payload = { tag: "bytes", val: upperBytes(payload.val) };
        } else {
          const value = JSON.parse(payload.val);
          payload = {
            tag: "control",
            val: JSON.stringify(typeof value === "string" ? value.toUpperCase() : value),
          };
        }
        packets.push({ metadata: packet.metadata, payload });
      }
    }
    return [{ portId: "out", packets }];
  },
};
