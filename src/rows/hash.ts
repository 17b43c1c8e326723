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
	const step = (c: number) => {
		a = Math.imul(a ^ c, 0x01_00_01_93);
		b = Math.imul(b ^ c, 0x01_00_01_93) ^ (a >>> 7);
	};

	const count = String(fields.length);
	for (let i = 0; i < count.length; i++) {
		step(count.charCodeAt(i));
	}

	if (fields.length === 0) {
		step(0);
	}

	for (const field of fields) {
		step(0);
		for (let i = 0; i < field.length; i++) {
			step(field.charCodeAt(i));
		}
	}

	return ((a >>> 0) * 2 ** 21) + ((b >>> 0) & 0x1f_ff_ff);
}
