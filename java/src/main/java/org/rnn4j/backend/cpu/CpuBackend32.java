package org.rnn4j.backend.cpu;

import org.rnn4j.backend.AbstractBackend;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Philox;
import org.rnn4j.backend.Precision;

/**
 * The CPU reference backend in single precision: storage and arithmetic in {@code float} (exp and tanh are evaluated
 * in double and rounded once). It is {@link CpuBackend64} line for line with {@code double} made {@code float}; keep
 * the two in step. Both are tested against the same formulas.
 */
public final class CpuBackend32 extends AbstractBackend {

    private static final class Storage extends Buffer.Allocation {
        private float[] data;

        Storage(CpuBackend32 owner, int length) {
            super(owner, length);
            data = new float[length];
        }

        @Override
        protected void release() {
            data = null;
        }
    }

    /** The GEMM, with its scratch space; see {@link CpuGemm}. */
    private final CpuGemm gemm = new CpuGemm();

    public CpuBackend32() {
        super(Precision.FLOAT32);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "CPU (Java, " + CpuGemm.threadsText() + ", float32)";
    }

    private float[] data(Buffer buffer) {
        return ((Storage) buffer.allocation()).data;
    }

    @Override
    protected Buffer.Allocation doAllocate(int length) {
        return new Storage(this, length);
    }

    @Override
    protected void doUpload(double[] src, int srcOffset, Buffer dst) {
        float[] d = data(dst);
        int o = dst.offset();
        for (int i = 0; i < dst.length(); i++) {
            d[o + i] = (float) src[srcOffset + i];
        }
    }

    @Override
    protected void doDownload(Buffer src, double[] dst, int dstOffset) {
        float[] s = data(src);
        int o = src.offset();
        for (int i = 0; i < src.length(); i++) {
            dst[dstOffset + i] = s[o + i];
        }
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k,
                          double alpha, Buffer a, int lda, Buffer b, int ldb,
                          double beta, Buffer c, int ldc) {
        gemm.gemm(transA, transB, m, n, k, (float) alpha, data(a), a.offset(), lda, data(b), b.offset(), ldb,
                (float) beta, data(c), c.offset(), ldc);
    }

    @Override
    protected void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst) {
        float[] sv = data(src);
        float[] dv = data(dst);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(sv, src.offset() + r * ldSrc, dv, dst.offset() + r * ldDst, cols);
        }
    }

    @Override
    protected void doSigmoidForward(Buffer x, Buffer y) {
        float[] xv = data(x);
        float[] yv = data(y);
        int xo = x.offset();
        int yo = y.offset();
        for (int i = 0; i < x.length(); i++) {
            yv[yo + i] = sigmoid(xv[xo + i]);
        }
    }

    @Override
    protected void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx) {
        float[] dyv = data(dy);
        float[] yv = data(y);
        float[] dxv = data(dx);
        int dyo = dy.offset();
        int yo = y.offset();
        int dxo = dx.offset();
        for (int i = 0; i < dy.length(); i++) {
            float out = yv[yo + i];
            dxv[dxo + i] = dyv[dyo + i] * (out * (1 - out));
        }
    }

    @Override
    protected void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                         Buffer gates, Buffer s, Buffer h) {
        float[] zv = data(preact);
        float[] bv = data(bias);
        float[] spv = data(sPrev);
        float[] gv = data(gates);
        float[] sv = data(s);
        float[] hv = data(h);
        int zo = preact.offset();
        int bo = bias.offset();
        int spo = sPrev.offset();
        int go = gates.offset();
        int so = s.offset();
        int ho = h.offset();
        int iOff = GateLayout.I * hidden;
        int fOff = GateLayout.F * hidden;
        int gOff = GateLayout.G * hidden;
        int oOff = GateLayout.O * hidden;
        for (int r = 0; r < batch; r++) {
            int zr = zo + r * 4 * hidden;
            int gr = go + r * 4 * hidden;
            int sr = r * hidden;
            for (int j = 0; j < hidden; j++) {
                float gi = sigmoid(zv[zr + iOff + j] + bv[bo + iOff + j]);
                float gf = sigmoid(zv[zr + fOff + j] + bv[bo + fOff + j]);
                float gg = (float) Math.tanh(zv[zr + gOff + j] + bv[bo + gOff + j]);
                float go2 = sigmoid(zv[zr + oOff + j] + bv[bo + oOff + j]);
                float state = gg * gi + spv[spo + sr + j] * gf;
                gv[gr + iOff + j] = gi;
                gv[gr + fOff + j] = gf;
                gv[gr + gOff + j] = gg;
                gv[gr + oOff + j] = go2;
                sv[so + sr + j] = state;
                hv[ho + sr + j] = state * go2;
            }
        }
    }

    @Override
    protected void doSeedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev, Buffer dh,
                                          Buffer dsNext, Buffer dPreact, Buffer dsPrev) {
        float[] gv = data(gates);
        float[] sv = data(s);
        float[] spv = data(sPrev);
        float[] dhv = data(dh);
        float[] dsnv = data(dsNext);
        float[] dzv = data(dPreact);
        float[] dspv = data(dsPrev);
        int go = gates.offset();
        int so = s.offset();
        int spo = sPrev.offset();
        int dho = dh.offset();
        int dsno = dsNext.offset();
        int dzo = dPreact.offset();
        int dspo = dsPrev.offset();
        int iOff = GateLayout.I * hidden;
        int fOff = GateLayout.F * hidden;
        int gOff = GateLayout.G * hidden;
        int oOff = GateLayout.O * hidden;
        for (int r = 0; r < batch; r++) {
            int gr = go + r * 4 * hidden;
            int zr = dzo + r * 4 * hidden;
            int sr = r * hidden;
            for (int j = 0; j < hidden; j++) {
                float gi = gv[gr + iOff + j];
                float gf = gv[gr + fOff + j];
                float gg = gv[gr + gOff + j];
                float go2 = gv[gr + oOff + j];
                float dhj = dhv[dho + sr + j];
                float ds = go2 * dhj + dsnv[dsno + sr + j];
                float dO = sv[so + sr + j] * dhj;
                float dI = gg * ds;
                float dG = gi * ds;
                float dF = spv[spo + sr + j] * ds;
                dzv[zr + iOff + j] = (1 - gi) * gi * dI;
                dzv[zr + fOff + j] = (1 - gf) * gf * dF;
                dzv[zr + oOff + j] = (1 - go2) * go2 * dO;
                dzv[zr + gOff + j] = (1 - gg * gg) * dG;
                dspv[dspo + sr + j] = ds * gf;
            }
        }
    }

    @Override
    protected void doStandardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh, Buffer biasHh,
                                             Buffer cPrev, Buffer gates, Buffer c, Buffer h) {
        float[] zv = data(preact);
        float[] biv = data(biasIh);
        float[] bhv = data(biasHh);
        float[] cpv = data(cPrev);
        float[] gv = data(gates);
        float[] cv = data(c);
        float[] hv = data(h);
        int zo = preact.offset();
        int bio = biasIh.offset();
        int bho = biasHh.offset();
        int cpo = cPrev.offset();
        int go = gates.offset();
        int co = c.offset();
        int ho = h.offset();
        int iOff = GateLayout.I * hidden;
        int fOff = GateLayout.F * hidden;
        int gOff = GateLayout.G * hidden;
        int oOff = GateLayout.O * hidden;
        for (int r = 0; r < batch; r++) {
            int zr = zo + r * 4 * hidden;
            int gr = go + r * 4 * hidden;
            int sr = r * hidden;
            for (int j = 0; j < hidden; j++) {
                float gi = sigmoid(zv[zr + iOff + j] + biv[bio + iOff + j] + bhv[bho + iOff + j]);
                float gf = sigmoid(zv[zr + fOff + j] + biv[bio + fOff + j] + bhv[bho + fOff + j]);
                float gg = (float) Math.tanh(zv[zr + gOff + j] + biv[bio + gOff + j] + bhv[bho + gOff + j]);
                float go2 = sigmoid(zv[zr + oOff + j] + biv[bio + oOff + j] + bhv[bho + oOff + j]);
                float cell = gf * cpv[cpo + sr + j] + gi * gg;
                gv[gr + iOff + j] = gi;
                gv[gr + fOff + j] = gf;
                gv[gr + gOff + j] = gg;
                gv[gr + oOff + j] = go2;
                cv[co + sr + j] = cell;
                hv[ho + sr + j] = go2 * (float) Math.tanh(cell);
            }
        }
    }

    @Override
    protected void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                              Buffer dcNext, Buffer dPreact, Buffer dcPrev) {
        float[] gv = data(gates);
        float[] cv = data(c);
        float[] cpv = data(cPrev);
        float[] dhv = data(dh);
        float[] dcnv = data(dcNext);
        float[] dzv = data(dPreact);
        float[] dcpv = data(dcPrev);
        int go = gates.offset();
        int co = c.offset();
        int cpo = cPrev.offset();
        int dho = dh.offset();
        int dcno = dcNext.offset();
        int dzo = dPreact.offset();
        int dcpo = dcPrev.offset();
        int iOff = GateLayout.I * hidden;
        int fOff = GateLayout.F * hidden;
        int gOff = GateLayout.G * hidden;
        int oOff = GateLayout.O * hidden;
        for (int r = 0; r < batch; r++) {
            int gr = go + r * 4 * hidden;
            int zr = dzo + r * 4 * hidden;
            int sr = r * hidden;
            for (int j = 0; j < hidden; j++) {
                float gi = gv[gr + iOff + j];
                float gf = gv[gr + fOff + j];
                float gg = gv[gr + gOff + j];
                float go2 = gv[gr + oOff + j];
                float dhj = dhv[dho + sr + j];
                float tc = (float) Math.tanh(cv[co + sr + j]);
                float dc = dhj * go2 * (1 - tc * tc) + dcnv[dcno + sr + j];
                dzv[zr + iOff + j] = dc * gg * gi * (1 - gi);
                dzv[zr + fOff + j] = dc * cpv[cpo + sr + j] * gf * (1 - gf);
                dzv[zr + gOff + j] = dc * gi * (1 - gg * gg);
                dzv[zr + oOff + j] = dhj * tc * go2 * (1 - go2);
                dcpv[dcpo + sr + j] = dc * gf;
            }
        }
    }

    @Override
    protected void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
        float[] sv = data(src);
        float[] dv = data(dst);
        int so = src.offset();
        int dO = dst.offset();
        for (int j = 0; j < cols; j++) {
            float sum = accumulate ? dv[dO + j] : 0;
            for (int r = 0; r < rows; r++) {
                sum += sv[so + r * cols + j];
            }
            dv[dO + j] = sum;
        }
    }

    @Override
    protected void doSgdUpdate(Buffer params, Buffer grads, double learningRate) {
        float[] pv = data(params);
        float[] gv = data(grads);
        int po = params.offset();
        int go = grads.offset();
        float lr = (float) learningRate;
        for (int i = 0; i < params.length(); i++) {
            pv[po + i] -= lr * gv[go + i];
        }
    }

    // ---- losses ---------------------------------------------------------------------------------------------------

    @Override
    protected void doCrossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                         boolean mean) {
        float[] xv = data(logits);
        float[] tv = data(targets);
        float[] lv = data(loss);
        int xo = logits.offset();
        int to = targets.offset();
        int lo = loss.offset();
        checkIndices(tv, to, rows, classes, "targets");
        if (mean) {
            float sum = deterministicSum(rows, Backend.REDUCE_BASE_ROWS,
                r -> crossEntropyRow(xv, xo + r * classes, classes, (int) tv[to + r]));
            lv[lo] = sum / rows;
        } else {
            for (int r = 0; r < rows; r++) {
                lv[lo + r] = crossEntropyRow(xv, xo + r * classes, classes, (int) tv[to + r]);
            }
        }
    }

    /** One row's loss, {@code -((x[t] - m) - log(sum_j exp(x[j] - m)))} with {@code m} the row's largest logit. */
    private static float crossEntropyRow(float[] xv, int row, int classes, int target) {
        float m = rowMax(xv, row, classes);
        float s = 0;
        for (int j = 0; j < classes; j++) {
            s += (float) Math.exp(xv[row + j] - m);
        }
        return -((xv[row + target] - m) - (float) Math.log(s));
    }

    /** The largest of a row's values, scanned in ascending order with {@code >} (as the kernels do). */
    private static float rowMax(float[] xv, int row, int classes) {
        float m = xv[row];
        for (int j = 1; j < classes; j++) {
            float x = xv[row + j];
            if (x > m) {
                m = x;
            }
        }
        return m;
    }

    @Override
    protected void doCrossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                          Buffer dLogits) {
        float[] xv = data(logits);
        float[] tv = data(targets);
        float[] dv = data(dLogits);
        int xo = logits.offset();
        int to = targets.offset();
        int dO = dLogits.offset();
        checkIndices(tv, to, rows, classes, "targets");
        float sc = (float) scale;
        for (int r = 0; r < rows; r++) {
            int row = xo + r * classes;
            int drow = dO + r * classes;
            int target = (int) tv[to + r];
            float m = rowMax(xv, row, classes);
            float s = 0;
            for (int j = 0; j < classes; j++) {
                s += (float) Math.exp(xv[row + j] - m);
            }
            for (int j = 0; j < classes; j++) {
                float prob = (float) Math.exp(xv[row + j] - m) / s;
                dv[drow + j] = (j == target ? prob - 1 : prob) * sc;
            }
        }
    }

    @Override
    protected void doMseForward(Buffer pred, Buffer target, Buffer loss) {
        float[] pv = data(pred);
        float[] tv = data(target);
        int po = pred.offset();
        int to = target.offset();
        int n = pred.length();
        float sum = deterministicSum(n, Backend.REDUCE_BASE_ELEMENTS, i -> {
            float d = pv[po + i] - tv[to + i];
            return d * d;
        });
        data(loss)[loss.offset()] = sum / n;
    }

    @Override
    protected void doMseBackward(Buffer pred, Buffer target, double scale, Buffer dPred) {
        float[] pv = data(pred);
        float[] tv = data(target);
        float[] dv = data(dPred);
        int po = pred.offset();
        int to = target.offset();
        int dO = dPred.offset();
        float sc = (float) scale;
        for (int i = 0; i < pred.length(); i++) {
            dv[dO + i] = (pv[po + i] - tv[to + i]) * sc;
        }
    }

    // ---- layers -------------------------------------------------------------------------------------------------

    @Override
    protected void doEmbeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out) {
        float[] wv = data(table);
        float[] iv = data(indices);
        float[] ov = data(out);
        int n = indices.length();
        checkIndices(iv, indices.offset(), n, vocab, "indices");
        for (int i = 0; i < n; i++) {
            int k = (int) iv[indices.offset() + i];
            System.arraycopy(wv, table.offset() + k * dim, ov, out.offset() + i * dim, dim);
        }
    }

    @Override
    protected void doEmbeddingBackward(int vocab, int dim, Buffer indices, Buffer dOut, Buffer dTable,
                                       boolean accumulate) {
        float[] iv = data(indices);
        float[] gv = data(dOut);
        float[] dv = data(dTable);
        int n = indices.length();
        int go = dOut.offset();
        int dO = dTable.offset();
        checkIndices(iv, indices.offset(), n, vocab, "indices");
        if (!accumulate) {
            for (int i = 0; i < vocab * dim; i++) {
                dv[dO + i] = 0;
            }
        }
        for (int i = 0; i < n; i++) {
            int row = dO + (int) iv[indices.offset() + i] * dim;
            for (int e = 0; e < dim; e++) {
                dv[row + e] += gv[go + i * dim + e];
            }
        }
    }

    @Override
    protected void doBiasAdd(int rows, int cols, Buffer x, Buffer bias, Buffer y) {
        float[] xv = data(x);
        float[] bv = data(bias);
        float[] yv = data(y);
        int xo = x.offset();
        int bo = bias.offset();
        int yo = y.offset();
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                yv[yo + r * cols + c] = xv[xo + r * cols + c] + bv[bo + c];
            }
        }
    }

    @Override
    protected void doDropoutForward(Buffer x, double p, long seed, long offset, Buffer mask, Buffer y) {
        float[] xv = data(x);
        float[] mv = data(mask);
        float[] yv = data(y);
        int xo = x.offset();
        int mo = mask.offset();
        int yo = y.offset();
        long threshold = Philox.dropThreshold(p);
        float keep = (float) (1 - p);
        float scale = 1 / keep;
        int[] words = new int[4];
        for (int i = 0; i < x.length(); i++) {
            if ((i & 3) == 0) {
                Philox.block(seed, offset + (i >>> 2), words);
            }
            float m = (words[i & 3] & 0xffffffffL) < threshold ? 0 : scale;
            mv[mo + i] = m;
            yv[yo + i] = xv[xo + i] * m;
        }
    }

    @Override
    protected void doDropoutBackward(Buffer dy, Buffer mask, Buffer dx) {
        float[] dyv = data(dy);
        float[] mv = data(mask);
        float[] dxv = data(dx);
        int dyo = dy.offset();
        int mo = mask.offset();
        int dxo = dx.offset();
        for (int i = 0; i < dy.length(); i++) {
            dxv[dxo + i] = dyv[dyo + i] * mv[mo + i];
        }
    }

    // ---- gradients and optimizers --------------------------------------------------------------------------------

    @Override
    protected void doL2Norm(Buffer x, Buffer norm) {
        float[] xv = data(x);
        int xo = x.offset();
        float sum = deterministicSum(x.length(), Backend.REDUCE_BASE_ELEMENTS, i -> xv[xo + i] * xv[xo + i]);
        data(norm)[norm.offset()] = (float) Math.sqrt(sum);
    }

    @Override
    protected void doClipCoefficient(Buffer norm, double maxNorm, Buffer coef) {
        float total = data(norm)[norm.offset()];
        float c = 1 / (total + (float) 1e-6) * (float) maxNorm;
        data(coef)[coef.offset()] = c > 1 ? 1 : c;
    }

    @Override
    protected void doScaleBy(Buffer x, Buffer factor) {
        float[] xv = data(x);
        int xo = x.offset();
        float f = data(factor)[factor.offset()];
        for (int i = 0; i < x.length(); i++) {
            xv[xo + i] = xv[xo + i] * f;
        }
    }

    @Override
    protected void doAdamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step, double lr,
                                double beta1, double beta2, double eps, double weightDecay) {
        float[] pv = data(params);
        float[] gv = data(grads);
        float[] mv = data(expAvg);
        float[] vv = data(expAvgSq);
        float[] sv = data(step);
        int po = params.offset();
        int go = grads.offset();
        int mo = expAvg.offset();
        int vo = expAvgSq.offset();
        float t = sv[step.offset()] + 1;
        sv[step.offset()] = t;
        // The step's scalars in float, as PyTorch computes them in Python, then rounded once to the precision.
        float negStepSize = (float) CpuScalars.adamNegStepSize(lr, beta1, t);
        float bc2Sqrt = (float) CpuScalars.adamBias2Sqrt(beta2, t);
        float w = (float) (1 - beta1);
        float oneMinusW = 1 - w;
        float b2 = (float) beta2;
        float oneMinusB2 = (float) (1 - beta2);
        float e = (float) eps;
        float wd = (float) weightDecay;
        boolean decay = weightDecay != 0;
        boolean small = w < 0.5;
        for (int i = 0; i < params.length(); i++) {
            float p = pv[po + i];
            float g = gv[go + i];
            if (decay) {
                g = g + wd * p;
            }
            float m = mv[mo + i];
            m = small ? m + w * (g - m) : g - (g - m) * oneMinusW;
            float v = vv[vo + i] * b2 + oneMinusB2 * g * g;
            mv[mo + i] = m;
            vv[vo + i] = v;
            float denom = (float) Math.sqrt(v) / bc2Sqrt + e;
            pv[po + i] = p + negStepSize * m / denom;
        }
    }

    @Override
    protected void doSgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step, double lr,
                                       double momentum, double weightDecay) {
        float[] pv = data(params);
        float[] gv = data(grads);
        float[] bv = data(momentumBuffer);
        float[] sv = data(step);
        int po = params.offset();
        int go = grads.offset();
        int bo = momentumBuffer.offset();
        boolean first = sv[step.offset()] == 0;
        float negLr = (float) -lr;
        float mom = (float) momentum;
        float wd = (float) weightDecay;
        boolean decay = weightDecay != 0;
        for (int i = 0; i < params.length(); i++) {
            float p = pv[po + i];
            float g = gv[go + i];
            if (decay) {
                g = g + wd * p;
            }
            float buf = first ? g : bv[bo + i] * mom + g;
            bv[bo + i] = buf;
            pv[po + i] = p + negLr * buf;
        }
        sv[step.offset()] = sv[step.offset()] + 1;
    }

    // ---- helpers of the new operations ----------------------------------------------------------------------------

    /** One item of a deterministic reduction: what item {@code i} contributes. */
    private interface Item {
        float at(int i);
    }

    /**
     * The sum of items {@code 0 .. n-1} in {@link Backend}'s deterministic order: chunks of
     * {@link Backend#reduceChunk} items, each summed by {@link #laneSum}, then the chunk sums by {@link #laneSum}.
     */
    private static float deterministicSum(int n, int base, Item item) {
        int chunk = Backend.reduceChunk(n, base);
        int chunks = (int) (((long) n + chunk - 1) / chunk);
        float[] partials = new float[chunks];
        for (int c = 0; c < chunks; c++) {
            long start = (long) c * chunk;
            partials[c] = laneSum(start, Math.min(start + chunk, n), item);
        }
        return laneSum(0, chunks, i -> partials[i]);
    }

    /** Items {@code [start, end)}: lane {@code t} adds items {@code start + t + 256k} from 0, then pairwise. */
    private static float laneSum(long start, long end, Item item) {
        float[] lanes = new float[Backend.REDUCE_LANES];
        for (int t = 0; t < lanes.length; t++) {
            float acc = 0;
            for (long i = start + t; i < end; i += lanes.length) {
                acc += item.at((int) i);
            }
            lanes[t] = acc;
        }
        for (int s = lanes.length / 2; s > 0; s /= 2) {
            for (int t = 0; t < s; t++) {
                lanes[t] = lanes[t] + lanes[t + s];
            }
        }
        return lanes[0];
    }

    /** Checks that {@code n} values from {@code off} are integers in {@code [0, limit)}, before anything is written. */
    private static void checkIndices(float[] v, int off, int n, int limit, String name) {
        for (int i = 0; i < n; i++) {
            float value = v[off + i];
            int k = (int) value;
            if (k != value || k < 0 || k >= limit) {
                throw new IllegalArgumentException(name + "[" + i + "] = " + value + " is not an index in [0, "
                        + limit + ")");
            }
        }
    }

    @Override
    protected void doSynchronize() {
        // Everything already ran.
    }

    @Override
    protected void doClose() {
        gemm.release();
    }

    private static float sigmoid(float x) {
        return 1 / (1 + (float) Math.exp(-x));
    }
}
