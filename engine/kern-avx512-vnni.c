/*
 * kern-avx512-vnni.c - the AVX-512 kernels with VNNI: kern-avx512.c
 * compiled again with KERN_VNNI, so every 8-bit dot product is one
 * VPDPBUSD.  Built with -mavx512vnni (see the Makefile) and only called
 * after kern.c has seen AVX512_VNNI in cpuid.
 */
#define KERN_VNNI	1
#include "kern-avx512.c"
