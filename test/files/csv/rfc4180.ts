/**
 * A strict RFC 4180 reader, independent of csv-parse: CRLF between records, fields quoted with `"`
 * (a quote inside doubled), no quote, CR or LF in an unquoted field, nothing after a closing quote
 * but a comma or the line end. Throws on anything else, naming the offset.
 */
export function parseStrict(text: string): string[][] {
	const records: string[][] = [];
	let i = 0;
	while (i < text.length) {
		const record: string[] = [];
		for (;;) {
			let field = '';
			if (text[i] === '"') {
				i++;
				for (;;) {
					if (i >= text.length) {
						throw new Error(`quote never closed (offset ${i})`);
					}

					if (text[i] === '"') {
						if (text[i + 1] === '"') {
							field += '"';
							i += 2;
							continue;
						}

						i++;
						break;
					}

					field += text[i];
					i++;
				}
			} else {
				while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
					if (text[i] === '"') {
						throw new Error(`a quote inside an unquoted field (offset ${i})`);
					}

					field += text[i];
					i++;
				}
			}

			record.push(field);
			if (text[i] === ',') {
				i++;
				continue;
			}

			if (text[i] === '\r' && text[i + 1] === '\n') {
				i += 2;
				break;
			}

			throw new Error(`expected a comma or CRLF at offset ${i}, got ${JSON.stringify(text.slice(i, i + 10))}`);
		}

		records.push(record);
	}

	return records;
}
