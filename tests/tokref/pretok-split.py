#!/usr/bin/env python3
# pretok-split.py - reference word splits for the pre-tokenizers that run
# tokenizer.json's own regex (gpt-4o, tekken) or add combining marks
# (qwen35), for test-vocab.c.
#
#   cd tests/tokref && SHARED=../../../shared python3 pretok-split.py
#
# Splits each line with the `regex` module (Unicode properties, as the
# Hugging Face tokenizers' regex engine) on the pattern from the model's
# tokenizer.json, \s spelled as White_Space.  Writes
# ../fixtures/pretok-<name>.txt: "<where>\t<byte offset of each word end>",
# <where> as in tokref-*.txt (F <file> <line> | T <escaped text>), the same
# lines as tokref.mjs picks plus its odd ones and a few case-change lines.
import json, os, re, subprocess, sys
import regex

WS, NWS = r'\p{White_Space}', r'\P{White_Space}'
PATTERNS = {
    'gpt-4o': r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    'qwen35': r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    'tekken': r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
}
LINES_PER_FILE = 150
here = os.path.dirname(os.path.abspath(__file__))
shared = os.environ.get('SHARED', os.path.join(here, '..', '..', '..', 'shared'))
logdir = os.path.join(shared, 'samples', 'loghub')

EXTRA = [
    'HTTPServerError in getHTTPResponseCode: it\'s 12345678 ms, we\'VE DONT\'T /var/log/syslog\n\n  next',
    'camelCaseWordsAndXMLHttpRequest iPhone McDONALD\'S \u00c9COLE \u00e9t\u00c9 \u01c5ungla',
]


def odd_lines():
    src = open(os.path.join(here, 'tokref.mjs'), encoding='utf-8').read()
    a = src.index('const odd = [')
    b = src.index('];', a)
    js = 'process.stdout.write(JSON.stringify(' + src[a + 12:b + 1] + '))'
    return json.loads(subprocess.run(['node', '-e', js], check=True,
                                     capture_output=True).stdout)


def escape(s):
    o = []
    for ch in s:
        c = ord(ch)
        if ch == '\\': o.append('\\\\')
        elif ch == '\n': o.append('\\n')
        elif ch == '\r': o.append('\\r')
        elif ch == '\t': o.append('\\t')
        elif c < 0x20 or c == 0x7f: o.append('\\x%02x' % c)
        else: o.append(ch)
    return ''.join(o)


def log_lines():
    out = []
    for f in sorted(x for x in os.listdir(logdir) if x.endswith('.log')):
        buf = open(os.path.join(logdir, f), 'rb').read()
        raw = buf.split(b'\n')
        if raw and raw[-1] == b'':
            raw.pop()
        n = len(raw)
        for k in range(min(LINES_PER_FILE, n)):
            idx = k * n // min(LINES_PER_FILE, n)
            try:
                text = raw[idx].decode('utf-8')
            except UnicodeDecodeError:
                continue
            out.append(('F %s %d' % (f, idx + 1), text))
    return out


def main():
    lines = log_lines() + [('T ' + escape(t), t) for t in odd_lines() + EXTRA]
    for name, pat in PATTERNS.items():
        pat = pat.replace(r'\s', WS).replace(r'\S', NWS)
        rx = regex.compile(pat)
        path = os.path.join(here, '..', 'fixtures', 'pretok-%s.txt' % name)
        with open(path, 'w', encoding='utf-8', newline='\n') as fp:
            fp.write('# pretok-%s: reference word ends (bytes), written by\n'
                     '# tests/tokref/pretok-split.py (python regex %s on the\n'
                     '# tokenizer.json pattern); read by tests/test-vocab.c.\n'
                     % (name, regex.__version__))
            for where, text in lines:
                ends, o = [], 0
                for m in rx.finditer(text):
                    assert m.start() == len(text[:m.start()])
                    ends.append(len(text[:m.end()].encode('utf-8')))
                fp.write('%s\t%s\n' % (where, ' '.join(map(str, ends))))
        print('%s: %d lines' % (path, len(lines)))


main()
