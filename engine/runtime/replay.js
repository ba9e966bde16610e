// dopplerReplay replays one recorded step list with a single call from Go
// (see engine/runtime/replay_js.go). Loaded once by the host (Node) or the
// service worker; no eval.
//
//   g: the graph's JS side, made once:
//     device, pipes, groups, dims (launch i: pipes[i], groups[i], workgroups
//     dims[3i..3i+2], a Uint32Array), step (the step
//     buffer), data (Int32Array template of its contents), tokN, B,
//     metaBase (first int32 after the token regions), posIdx/posRel/posSeq
//     (data[posIdx[i]] = posRel[i] + start of sequence posSeq[i]),
//     slotIdx/slotSeq (data[slotIdx[i]] = slot of slotSeq[i]), outIdx
//     (prompt chunks: where each sequence's last used row goes),
//     src/off/len/staging (the read-back range and its two mappable buffers,
//     used by odd and even replays so two can be in flight), ints (read back
//     int32 values, handed to done) or out (a Uint8Array the read-back
//     bytes are copied into), done (a Go function made once);
//     feed/lastTok (sampling graphs: the session's feed buffer, which every
//     replay leaves the last step's B sampled ids in, and their byte offset
//     in the step buffer); split (0: the launches go in one submission;
//     above 0, prompt chunks: in pieces of split, 2·split, 4·split, ...
//     launches); prof (optional, see below).
//   chain: 1 takes region 0's ids from feed (the previous replay's last
//     sampled tokens, still on the GPU), so this replay can be submitted
//     before that one is read back; 0 takes them from vals.
//   vals: tokN token ids (ignored when chained), B start positions, B cache
//     slots, then one last used row per entry of outIdx.
//
// Writes the step buffer, encodes the launches (one compute pass a
// submission), submits, reads back, then calls done(seq, null, ...ints) or
// done(seq, errorText).
//
// prof, when set (doppler bench --profile), holds a timestamp query set
// (qs, resolved into res and read back after the results at tsOff) and
// sums: n replays, encodeMs (JS time to encode and submit), submitMs (of
// it, queue.submit alone: Dawn records the native commands there), waitMs (submit
// to read-back), gpuNs (first to last timestamp); with prof.ops every
// dispatch gets its own timed pass and opNs[i] sums command i's GPU time.
globalThis.dopplerReplay = function (g, seq, chain, ...vals) {
	try {
		const p = g.prof;
		const t0 = p ? performance.now() : 0;
		const d = g.data;
		if (!chain) for (let i = 0; i < g.tokN; i++) d[i] = vals[i];
		for (let i = 0; i < g.posIdx.length; i++) d[g.posIdx[i]] = g.posRel[i] + vals[g.tokN + g.posSeq[i]];
		for (let i = 0; i < g.slotIdx.length; i++) d[g.slotIdx[i]] = vals[g.tokN + g.B + g.slotSeq[i]];
		for (let i = 0; i < g.outIdx.length; i++) d[g.outIdx[i]] = vals[g.tokN + 2 * g.B + i];
		const q = g.device.queue;
		// Chained, the token regions are left alone: region 0 comes from feed.
		if (chain) q.writeBuffer(g.step, 4 * g.metaBase, d, g.metaBase, d.length - g.metaBase);
		else q.writeBuffer(g.step, 0, d);
		let enc = g.device.createCommandEncoder();
		if (chain) enc.copyBufferToBuffer(g.feed, 0, g.step, 0, 4 * g.B);
		const pipes = g.pipes, groups = g.groups, dims = g.dims, n = pipes.length;
		let tSubmit = 0;
		// A prompt chunk (split > 0) goes in several submissions, split
		// launches, then twice as many each time: the GPU starts on the
		// chunk while the host encodes the rest of it.
		for (let i = 0, size = g.split > 0 ? g.split : n; ; size *= 2) {
			const end = Math.min(n, i + size);
			if (p && p.ops) {
				for (; i < end; i++) {
					const pass = enc.beginComputePass({ timestampWrites: { querySet: p.qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
					pass.setPipeline(pipes[i]);
					pass.setBindGroup(0, groups[i]);
					pass.dispatchWorkgroups(dims[3 * i], dims[3 * i + 1], dims[3 * i + 2]);
					pass.end();
				}
			} else {
				let tw;
				if (p && (i === 0 || end === n)) {
					tw = { querySet: p.qs };
					if (i === 0) tw.beginningOfPassWriteIndex = 0;
					if (end === n) tw.endOfPassWriteIndex = 1;
				}
				const pass = enc.beginComputePass(tw ? { timestampWrites: tw } : undefined);
				let last = null;
				for (; i < end; i++) {
					if (pipes[i] !== last) {
						pass.setPipeline(pipes[i]);
						last = pipes[i];
					}
					pass.setBindGroup(0, groups[i]);
					pass.dispatchWorkgroups(dims[3 * i], dims[3 * i + 1], dims[3 * i + 2]);
				}
				pass.end();
			}
			if (i >= n) break;
			const cb = enc.finish();
			const ts = p ? performance.now() : 0;
			q.submit([cb]);
			if (p) tSubmit += performance.now() - ts;
			enc = g.device.createCommandEncoder();
		}
		if (g.feed) enc.copyBufferToBuffer(g.step, g.lastTok, g.feed, 0, 4 * g.B);
		const st = seq & 1 ? g.staging2 : g.staging;
		enc.copyBufferToBuffer(g.src, g.off, st, 0, g.len);
		const nq = p ? (p.ops ? 2 * n : 2) : 0;
		if (p) {
			enc.resolveQuerySet(p.qs, 0, nq, p.res, 0);
			enc.copyBufferToBuffer(p.res, 0, st, p.tsOff, 8 * nq);
		}
		const cb = enc.finish();
		const tSub = p ? performance.now() : 0;
		q.submit([cb]);
		const t1 = p ? performance.now() : 0;
		const size = p ? p.tsOff + 8 * nq : g.len;
		st.mapAsync(GPUMapMode.READ, 0, size).then(() => {
			const range = st.getMappedRange(0, size);
			if (p) {
				const ts = new BigInt64Array(range, p.tsOff, nq);
				p.n++;
				p.encodeMs += t1 - t0;
				p.submitMs += t1 - tSub + tSubmit;
				p.waitMs += performance.now() - t1;
				p.gpuNs += Number(ts[nq - 1] - ts[0]);
				if (p.ops) for (let k = 0; k < nq; k += 2) p.opNs[k / 2] += Number(ts[k + 1] - ts[k]);
			}
			if (g.ints) {
				const v = Array.from(new Int32Array(range, 0, g.len / 4));
				st.unmap();
				g.done(seq, null, ...v);
			} else {
				g.out.set(new Uint8Array(range, 0, g.len));
				st.unmap();
				g.done(seq, null);
			}
		}, (e) => g.done(seq, String(e)));
	} catch (e) {
		g.done(seq, String(e));
	}
};
