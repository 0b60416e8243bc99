/**
 * GLSL pieces the WebGL attention programs share: number literals and the softmax over a window
 * accumulated in one pass (online softmax: the running maximum m, Σ exp(l - m) and Σ exp(l - m)·v,
 * rescaled by exp(m_old - m_new) whenever a larger logit arrives).
 */

/** A GLSL float literal of x (an integer-valued x gets its '.0', which GLSL needs). */
export function glslFloat(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`glslFloat: ${x} is not a finite number`);
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** What a program writes per output element: the attention output or the log-sum-exp of its logits. */
export type AttentionOutput = 'y' | 'lse';

/** Declares the softmax state: `maxLogit`, `expSum`, `weighted` (Σ exp(l - maxLogit)·v, of the values' type). */
export function softmaxStart(valueType: 'float' | 'vec4' = 'float'): string {
  return `
  float maxLogit = -3.0e38;
  float expSum = 0.0;
  ${valueType} weighted = ${valueType}(0.0);`;
}

/** Adds the logit `logit` whose value is `value` to the softmax state. */
export function softmaxStep(logit: string, value: string): string {
  return `
      if (${logit} > maxLogit) {
        float rescale = exp(maxLogit - ${logit});
        expSum *= rescale;
        weighted *= rescale;
        maxLogit = ${logit};
      }
      float expLogit = exp(${logit} - maxLogit);
      expSum += expLogit;
      weighted += expLogit * (${value});`;
}

/** Writes y = Σ softmax·v or lse = log Σ exp(logit). */
export function softmaxResult(output: AttentionOutput): string {
  return output === 'y' ? 'setOutput(weighted / expSum);' : 'setOutput(maxLogit + log(expSum));';
}

/**
 * GLSL filling rowLogit[t] = q̂_row·relRow[t] and colLogit[t] = q̂_col·relCol[t] for t ∈ [0, `count`) (a GLSL
 * constant's name): the head's channels below HALF meet relRow, those above meet relCol. The scalar programs
 * (local attention, the stem) share it; it expects `query[HEAD_DIM]` and `first` (the head's first channel).
 */
export function relativeLogitsGlsl(count: string): string {
  return `
  float rowLogit[${count}];
  float colLogit[${count}];
  for (int t = 0; t < ${count}; t++) {
    float row = 0.0;
    float col = 0.0;
    for (int u = 0; u < HEAD_DIM; u++) {
      int c = first + u;
      if (c < HALF) row += query[u] * getRelRow(t, c);
      else col += query[u] * getRelCol(t, c - HALF);
    }
    rowLogit[t] = row;
    colLogit[t] = col;
  }`;
}
