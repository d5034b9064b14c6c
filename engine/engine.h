/*
 * engine.h - the in-process language model (issue #3, not implemented yet).
 *
 * Planned files, in the order data flows through them:
 *   gguf.c      bounded reader for GGUF v2/v3 over mmap
 *   model.c     architecture table (llama, qwen2, qwen3), tensor binding
 *   vocab.c     SentencePiece and byte-level BPE tokenizers
 *   quant.c     reference (scalar) kernels per tensor type: the spec
 *   kern.c      runtime dispatch; kern-avx2.c, kern-avx512.c SIMD variants
 *   session.c   KV cache and forward pass, one token at a time
 *   sampler.c   greedy, temperature, top-k/p, min-p, repetition penalty
 * Everything will be behind the eng_ prefix and opaque structs.  Until
 * then triage works without a model: playbooks are the fallback path.
 */
#ifndef TRIAGE_ENGINE_H
#define TRIAGE_ENGINE_H
#endif
