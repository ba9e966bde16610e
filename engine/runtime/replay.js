// dopplerReplay replays one recorded step list with a single call from Go
// (see engine/runtime/replay_js.go). Loaded once by the host (Node) or the
// service worker; no eval.
//
//   g: the graph's JS side, made once:
//     device, cmds (flat [pipeline, bindGroup, x, y, z, ...]), step (the step
//     buffer), data (Int32Array template of its contents), tokN, B,
//     posIdx/posRel/posSeq (data[posIdx[i]] = posRel[i] + start of sequence
//     posSeq[i]), slotIdx/slotSeq (data[slotIdx[i]] = slot of slotSeq[i]),
//     src/off/len/staging (the read-back range and its mappable buffer),
//     ints (read back int32 values, handed to done) or out (a Uint8Array
//     the read-back bytes are copied into), done (a Go function made once).
//   vals: tokN token ids, B start positions, B cache slots.
//
// Writes the step buffer, encodes one compute pass, submits, reads back,
// then calls done(seq, null, ...ints) or done(seq, errorText).
globalThis.dopplerReplay = function (g, seq, ...vals) {
	try {
		const d = g.data;
		for (let i = 0; i < g.tokN; i++) d[i] = vals[i];
		for (let i = 0; i < g.posIdx.length; i++) d[g.posIdx[i]] = g.posRel[i] + vals[g.tokN + g.posSeq[i]];
		for (let i = 0; i < g.slotIdx.length; i++) d[g.slotIdx[i]] = vals[g.tokN + g.B + g.slotSeq[i]];
		const q = g.device.queue;
		q.writeBuffer(g.step, 0, d);
		const enc = g.device.createCommandEncoder();
		const pass = enc.beginComputePass();
		const c = g.cmds;
		let last = null;
		for (let i = 0; i < c.length; i += 5) {
			if (c[i] !== last) {
				pass.setPipeline(c[i]);
				last = c[i];
			}
			pass.setBindGroup(0, c[i + 1]);
			pass.dispatchWorkgroups(c[i + 2], c[i + 3], c[i + 4]);
		}
		pass.end();
		enc.copyBufferToBuffer(g.src, g.off, g.staging, 0, g.len);
		q.submit([enc.finish()]);
		g.staging.mapAsync(GPUMapMode.READ, 0, g.len).then(() => {
			const range = g.staging.getMappedRange(0, g.len);
			if (g.ints) {
				const v = Array.from(new Int32Array(range));
				g.staging.unmap();
				g.done(seq, null, ...v);
			} else {
				g.out.set(new Uint8Array(range));
				g.staging.unmap();
				g.done(seq, null);
			}
		}, (e) => g.done(seq, String(e)));
	} catch (e) {
		g.done(seq, String(e));
	}
};
