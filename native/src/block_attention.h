// The local attention kernels' path for the paper's layers with a 4×4 block of queries in the lanes of a
// vector (block_attention.cc); local_attention.cc dispatches to it where blockLanesFit.
#pragma once

#include <vector>

#include "attention_common.h"

namespace sasa {
namespace attention {

/**
 * Whether the block-lane path takes geometry g: 16-lane vectors, k 7, 8 or 16 channels a head, zero
 * padding, qk and qr logits, H and W multiples of 4.
 */
bool blockLanesFit(const Geometry& g);

/** localAttentionForward's y (pooled with epilogue.pool, then its bias and ReLU) and lse (null: none). */
void blockLanesForward(const Geometry& g, const float* q, const float* k, const float* v, const float* relRow,
                       const float* relCol, float* y, float* lse, const Epilogue& epilogue);

/** localAttentionBackward's dq, dk, dv and dRel's per-image slices [dRelRow | dRelCol] (dy pooled with pooled). */
void blockLanesBackward(const Geometry& g, const float* dy, const float* q, const float* k, const float* v,
                        const float* relRow, const float* relCol, const float* lse, Grads out,
                        std::vector<double>& dRel, bool pooled);

}  // namespace attention
}  // namespace sasa
