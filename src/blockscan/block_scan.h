/*-------------------------------------------------------------------------
 *
 * block_scan.h
 *	  "Foresight Block Scan": a sequential scan of a heap table limited to
 *	  a range of its blocks, for the block-range parts of split reads on
 *	  the nodes (see block_scan.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef FORESIGHT_BLOCK_SCAN_H
#define FORESIGHT_BLOCK_SCAN_H

extern bool foresight_block_scan;

extern void block_scan_define_gucs(void);
extern void block_scan_install_hooks(void);

#endif							/* FORESIGHT_BLOCK_SCAN_H */
