/*
 * kern-avx2-vnni.c - the AVX2 kernels with AVX-VNNI: kern-avx2.c
 * compiled again with KERN_VNNI, so the 8-bit dot products of the tile
 * kernels and of the unsigned-weight decode kernels are VPDPBUSD (VEX).
 * Built with -mavxvnni (see the Makefile) and only called after kern.c
 * has seen AVX_VNNI in cpuid.  The weight-tile decoders are not
 * duplicated: this table falls back to kern-avx2.c's.
 */
#define KERN_VNNI	1
#include "kern-avx2.c"
