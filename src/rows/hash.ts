/** A 53-bit hash of a string (two 32-bit FNV-1a lanes): a small number instead of the text. */
export function hash53(text: string): number {
	let a = 0x81_1c_9d_c5;
	let b = 0x05_0c_5d_1f;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		a = Math.imul(a ^ c, 0x01_00_01_93);
		b = Math.imul(b ^ c, 0x01_00_01_93) ^ (a >>> 7);
	}

	return ((a >>> 0) * 2 ** 21) + ((b >>> 0) & 0x1f_ff_ff);
}

/** `hash53` of `${fields.length}\0${fields.join('\0')}`, without building that string. */
export function hash53Fields(fields: readonly string[]): number {
	let a = 0x81_1c_9d_c5;
	let b = 0x05_0c_5d_1f;
	const count = String(fields.length);
	for (let i = 0; i < count.length; i++) {
		a = Math.imul(a ^ count.charCodeAt(i), 0x01_00_01_93);
		b = Math.imul(b ^ count.charCodeAt(i), 0x01_00_01_93) ^ (a >>> 7);
	}

	// The 0 after the count (one however many fields), then each field after a 0 of its own but the first.
	a = Math.imul(a, 0x01_00_01_93);
	b = Math.imul(b, 0x01_00_01_93) ^ (a >>> 7);
	for (let f = 0; f < fields.length; f++) {
		if (f > 0) {
			a = Math.imul(a, 0x01_00_01_93);
			b = Math.imul(b, 0x01_00_01_93) ^ (a >>> 7);
		}

		const field = fields[f] ?? '';
		for (let i = 0; i < field.length; i++) {
			const c = field.charCodeAt(i);
			a = Math.imul(a ^ c, 0x01_00_01_93);
			b = Math.imul(b ^ c, 0x01_00_01_93) ^ (a >>> 7);
		}
	}

	return ((a >>> 0) * 2 ** 21) + ((b >>> 0) & 0x1f_ff_ff);
}
