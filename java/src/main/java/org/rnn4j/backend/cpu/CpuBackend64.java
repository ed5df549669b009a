package org.rnn4j.backend.cpu;

import org.rnn4j.backend.AbstractBackend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Precision;

/**
 * The CPU reference backend in double precision: plain Java loops, one thread, operations done before they return.
 * Each operation is the formula documented on {@link org.rnn4j.backend.Backend}, written in the order of evaluation
 * the seeds use, so that float64 runs reproduce the seeds' numbers.
 *
 * <p>{@link CpuBackend32} is generated from this file by {@code org.rnn4j.codegen.GenerateFloat32} (the command is in
 * its header): edit this one only, then regenerate. Where a {@code double} scalar or host array of an operation's
 * signature enters the arithmetic, write the cast {@code (double)}, which becomes {@code (float)} there.
 */
public final class CpuBackend64 extends AbstractBackend {

    private static final class Storage extends Buffer.Allocation {
        private double[] data;

        Storage(CpuBackend64 owner, int length) {
            super(owner, length);
            data = new double[length];
        }

        @Override
        protected void release() {
            data = null;
        }
    }

    /** The GEMM, with its scratch space; see {@link CpuGemm}. */
    private final CpuGemm gemm = new CpuGemm();
    /** 0 for the reference order; else where each GEMM's sum over {@code k} is split (see {@link #withSplitSums}). */
    private final double splitAt;

    public CpuBackend64() {
        this(0);
    }

    private CpuBackend64(double splitAt) {
        super(Precision.FLOAT64);
        this.splitAt = splitAt;
    }

    /**
     * The same backend with the rounding of every GEMM perturbed and nothing else: each product over {@code k >= 2}
     * terms sums its first {@code floor(k * at)} terms (at least 1, at most {@code k - 1}) into {@code C} and then adds
     * the rest, instead of one sum in the reference order. A run on it differs from the reference run by rounding
     * only, so it measures how much a training run amplifies rounding; {@code rnn4j train --check} derives its float64
     * bound from it ({@link org.rnn4j.check.ParityCheck}). Not for training.
     *
     * @param at the split point as a fraction of {@code k}, strictly between 0 and 1
     */
    public static CpuBackend64 withSplitSums(double at) {
        if (!(at > 0 && at < 1)) {
            throw new IllegalArgumentException("at must lie strictly between 0 and 1, got " + at);
        }
        return new CpuBackend64(at);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "CPU (" + gemm.describe() + ", float64"
                + (splitAt > 0 ? ", each GEMM's sum split at " + splitAt + " of k" : "") + ")";
    }

    private double[] data(Buffer buffer) {
        return ((Storage) buffer.allocation()).data;
    }

    @Override
    protected Buffer.Allocation doAllocate(int length) {
        return new Storage(this, length);
    }

    @Override
    protected void doUpload(double[] src, int srcOffset, Buffer dst) {
        double[] d = data(dst);
        int o = dst.offset();
        for (int i = 0; i < dst.length(); i++) {
            d[o + i] = (double) src[srcOffset + i];
        }
    }

    @Override
    protected void doDownload(Buffer src, double[] dst, int dstOffset) {
        double[] s = data(src);
        int o = src.offset();
        for (int i = 0; i < src.length(); i++) {
            dst[dstOffset + i] = s[o + i];
        }
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k,
                          double alpha, Buffer a, int lda, Buffer b, int ldb,
                          double beta, Buffer c, int ldc) {
        if (splitAt > 0 && k >= 2) {
            int k1 = Math.max(1, Math.min(k - 1, (int) (k * splitAt)));
            gemm.gemm(transA, transB, m, n, k1, (double) alpha, data(a), a.offset(), lda, data(b), b.offset(), ldb,
                    (double) beta, data(c), c.offset(), ldc);
            gemm.gemm(transA, transB, m, n, k - k1, (double) alpha, data(a), a.offset() + (transA ? k1 * lda : k1), lda,
                    data(b), b.offset() + (transB ? k1 : k1 * ldb), ldb, 1.0, data(c), c.offset(), ldc);
            return;
        }
        gemm.gemm(transA, transB, m, n, k, (double) alpha, data(a), a.offset(), lda, data(b), b.offset(), ldb,
                (double) beta, data(c), c.offset(), ldc);
    }

    @Override
    protected void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst) {
        double[] sv = data(src);
        double[] dv = data(dst);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(sv, src.offset() + r * ldSrc, dv, dst.offset() + r * ldDst, cols);
        }
    }

    @Override
    protected void doSigmoidForward(Buffer x, Buffer y) {
        double[] xv = data(x);
        double[] yv = data(y);
        int xo = x.offset();
        int yo = y.offset();
        for (int i = 0; i < x.length(); i++) {
            yv[yo + i] = sigmoid(xv[xo + i]);
        }
    }

    @Override
    protected void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx) {
        double[] dyv = data(dy);
        double[] yv = data(y);
        double[] dxv = data(dx);
        int dyo = dy.offset();
        int yo = y.offset();
        int dxo = dx.offset();
        for (int i = 0; i < dy.length(); i++) {
            double out = yv[yo + i];
            dxv[dxo + i] = dyv[dyo + i] * (out * (1 - out));
        }
    }

    @Override
    protected void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                         Buffer gates, Buffer s, Buffer h) {
        double[] zv = data(preact);
        double[] bv = data(bias);
        double[] spv = data(sPrev);
        double[] gv = data(gates);
        double[] sv = data(s);
        double[] hv = data(h);
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
                double gi = sigmoid(zv[zr + iOff + j] + bv[bo + iOff + j]);
                double gf = sigmoid(zv[zr + fOff + j] + bv[bo + fOff + j]);
                double gg = Math.tanh(zv[zr + gOff + j] + bv[bo + gOff + j]);
                double go2 = sigmoid(zv[zr + oOff + j] + bv[bo + oOff + j]);
                double state = gg * gi + spv[spo + sr + j] * gf;
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
        double[] gv = data(gates);
        double[] sv = data(s);
        double[] spv = data(sPrev);
        double[] dhv = data(dh);
        double[] dsnv = data(dsNext);
        double[] dzv = data(dPreact);
        double[] dspv = data(dsPrev);
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
                double gi = gv[gr + iOff + j];
                double gf = gv[gr + fOff + j];
                double gg = gv[gr + gOff + j];
                double go2 = gv[gr + oOff + j];
                double dhj = dhv[dho + sr + j];
                double ds = go2 * dhj + dsnv[dsno + sr + j];
                double dO = sv[so + sr + j] * dhj;
                double dI = gg * ds;
                double dG = gi * ds;
                double dF = spv[spo + sr + j] * ds;
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
        double[] zv = data(preact);
        double[] biv = data(biasIh);
        double[] bhv = data(biasHh);
        double[] cpv = data(cPrev);
        double[] gv = data(gates);
        double[] cv = data(c);
        double[] hv = data(h);
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
                double gi = sigmoid(zv[zr + iOff + j] + biv[bio + iOff + j] + bhv[bho + iOff + j]);
                double gf = sigmoid(zv[zr + fOff + j] + biv[bio + fOff + j] + bhv[bho + fOff + j]);
                double gg = Math.tanh(zv[zr + gOff + j] + biv[bio + gOff + j] + bhv[bho + gOff + j]);
                double go2 = sigmoid(zv[zr + oOff + j] + biv[bio + oOff + j] + bhv[bho + oOff + j]);
                double cell = gf * cpv[cpo + sr + j] + gi * gg;
                gv[gr + iOff + j] = gi;
                gv[gr + fOff + j] = gf;
                gv[gr + gOff + j] = gg;
                gv[gr + oOff + j] = go2;
                cv[co + sr + j] = cell;
                hv[ho + sr + j] = go2 * Math.tanh(cell);
            }
        }
    }

    @Override
    protected void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                              Buffer dcNext, Buffer dPreact, Buffer dcPrev) {
        double[] gv = data(gates);
        double[] cv = data(c);
        double[] cpv = data(cPrev);
        double[] dhv = data(dh);
        double[] dcnv = data(dcNext);
        double[] dzv = data(dPreact);
        double[] dcpv = data(dcPrev);
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
                double gi = gv[gr + iOff + j];
                double gf = gv[gr + fOff + j];
                double gg = gv[gr + gOff + j];
                double go2 = gv[gr + oOff + j];
                double dhj = dhv[dho + sr + j];
                double tc = Math.tanh(cv[co + sr + j]);
                double dc = dhj * go2 * (1 - tc * tc) + dcnv[dcno + sr + j];
                dzv[zr + iOff + j] = dc * gg * gi * (1 - gi);
                dzv[zr + fOff + j] = dc * cpv[cpo + sr + j] * gf * (1 - gf);
                dzv[zr + gOff + j] = dc * gi * (1 - gg * gg);
                dzv[zr + oOff + j] = dhj * tc * go2 * (1 - go2);
                dcpv[dcpo + sr + j] = dc * gf;
            }
        }
    }

    @Override
    protected void doSigmoidSquaredErrorLoss(int batch, int outputs, Buffer out, Buffer target, Buffer dPreact,
                                             Buffer absErrorSum, boolean accumulate) {
        double[] ov = data(out);
        double[] tv = data(target);
        double[] dv = data(dPreact);
        double[] ev = data(absErrorSum);
        int oo = out.offset();
        int to = target.offset();
        int dO = dPreact.offset();
        int eo = absErrorSum.offset();
        for (int r = 0; r < batch; r++) {
            double err = accumulate ? ev[eo + r] : 0;
            for (int j = 0; j < outputs; j++) {
                int idx = r * outputs + j;
                double o = ov[oo + idx];
                double miss = tv[to + idx] - o; // the seed's layer_2_error = y - layer_2
                dv[dO + idx] = -miss * (o * (1 - o));
                err += Math.abs(miss);
            }
            ev[eo + r] = err;
        }
    }

    @Override
    protected void doSeedLstmSquaredLoss(int batch, int hidden, Buffer h, Buffer target, Buffer dh, Buffer lossSum,
                                         boolean accumulate) {
        double[] hv = data(h);
        double[] tv = data(target);
        double[] dv = data(dh);
        double[] lv = data(lossSum);
        int ho = h.offset();
        int to = target.offset();
        int dO = dh.offset();
        int lo = lossSum.offset();
        for (int r = 0; r < batch; r++) {
            double diff = hv[ho + r * hidden] - tv[to + r];
            double loss = diff * diff;
            lv[lo + r] = accumulate ? lv[lo + r] + loss : loss;
            int row = dO + r * hidden;
            dv[row] = 2 * diff;
            for (int j = 1; j < hidden; j++) {
                dv[row + j] = 0;
            }
        }
    }

    @Override
    protected void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
        double[] sv = data(src);
        double[] dv = data(dst);
        int so = src.offset();
        int dO = dst.offset();
        for (int j = 0; j < cols; j++) {
            double sum = accumulate ? dv[dO + j] : 0;
            for (int r = 0; r < rows; r++) {
                sum += sv[so + r * cols + j];
            }
            dv[dO + j] = sum;
        }
    }

    @Override
    protected void doSgdUpdate(Buffer params, Buffer grads, double learningRate) {
        double[] pv = data(params);
        double[] gv = data(grads);
        int po = params.offset();
        int go = grads.offset();
        double lr = (double) learningRate;
        for (int i = 0; i < params.length(); i++) {
            pv[po + i] -= lr * gv[go + i];
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

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
