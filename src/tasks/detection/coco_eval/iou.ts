/** Box IoU, as pycocotools' `bbIou` (maskApi.c) computes it, in the same floating-point operations. */

/**
 * IoUs of detections × ground truths, written to `out` [D, G] (row d, column g).
 * Boxes are `[x, y, w, h]` rows of `boxes`, addressed by the index lists. For a crowd ground truth the
 * union is the detection's area alone: IoU = intersection / (w_d·h_d); otherwise
 * intersection / (w_d·h_d + w_g·h_g − intersection). Disjoint boxes: 0.
 */
export function boxIous(
  dtBoxes: Float64Array,
  dtIndex: Int32Array,
  dtFrom: number,
  numDt: number,
  gtBoxes: Float64Array,
  gtIndex: Int32Array,
  gtFrom: number,
  numGt: number,
  gtCrowd: Uint8Array,
  out: Float64Array,
): void {
  for (let g = 0; g < numGt; g++) {
    const gi = 4 * gtIndex[gtFrom + g];
    const gx = gtBoxes[gi];
    const gy = gtBoxes[gi + 1];
    const gw = gtBoxes[gi + 2];
    const gh = gtBoxes[gi + 3];
    const gtArea = gw * gh;
    const crowd = gtCrowd[gtIndex[gtFrom + g]] === 1;
    for (let d = 0; d < numDt; d++) {
      const di = 4 * dtIndex[dtFrom + d];
      const dx = dtBoxes[di];
      const dy = dtBoxes[di + 1];
      const dw = dtBoxes[di + 2];
      const dh = dtBoxes[di + 3];
      const dtArea = dw * dh;
      let iou = 0;
      const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
      if (w > 0) {
        const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
        if (h > 0) {
          const inter = w * h;
          iou = inter / (crowd ? dtArea : dtArea + gtArea - inter);
        }
      }
      out[d * numGt + g] = iou;
    }
  }
}
