package org.rnn4j.backend.cpu;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.ColumnSums;
import org.rnn4j.backend.GateLayout;
import org.rnn4j.backend.Philox;
import org.rnn4j.backend.Precision;
import org.rnn4j.backend.spi.AbstractBackend;
import org.rnn4j.backend.spi.Allocation;

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

    private static final class Storage extends Allocation {
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
    private final CpuGemm gemm;
    /** The standard cell's scratch vectors (see {@link #cellVectors}). */
    private double[][] cellVectors;
    /** {@link #doSumRows}'s accumulators, grown on demand. */
    private double[] sumScratch;
    /** 0 for the reference order; else where each GEMM's sum over {@code k} is split (see {@link #withSplitSums}). */
    private final double splitAt;

    /**
     * A float64 CPU backend, every GEMM summed in the reference order: the one to train and to compare with.
     * Nothing to release but the Java arrays; closing it still invalidates its buffers.
     */
    public CpuBackend64() {
        this(0);
    }

    private CpuBackend64(double splitAt) {
        this(new CpuGemm(), splitAt);
    }

    /** A backend on the given GEMM (the tests' hook to force a route). */
    CpuBackend64(CpuGemm gemm, double splitAt) {
        super(Precision.FLOAT64);
        this.gemm = gemm;
        this.splitAt = splitAt;
    }

    /** The GEMM (for the tests). */
    CpuGemm gemm() {
        return gemm;
    }

    /**
     * The same backend with the rounding of every GEMM perturbed and nothing else: each product over {@code k >= 2}
     * terms sums its first {@code floor(k * at)} terms (at least 1, at most {@code k - 1}) into {@code C} and then adds
     * the rest, instead of one sum in the reference order. A run on it differs from the reference run by rounding
     * only, so it measures how much a training run amplifies rounding; {@code rnn4j train --check} derives its float64
     * bound from it (the command line's {@code ParityCheck}). Not for training.
     *
     * @param at the split point as a fraction of {@code k}, strictly between 0 and 1
     * @return a new float64 backend whose GEMMs split their sums at {@code at}
     * @throws IllegalArgumentException when {@code at} is not strictly between 0 and 1
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

    /**
     * The array behind a buffer that the operation may write (every operand of every operation but the GEMM's A and
     * B goes through here): the GEMM's kept off-heap copies of its range are forgotten first (see
     * {@link OpenBlasGemm}). Erring this way costs a copy, never a stale operand.
     */
    private double[] data(Buffer buffer) {
        double[] d = ((Storage) buffer.allocation()).data;
        gemm.written(d, buffer.offset(), buffer.length());
        return d;
    }

    /** The array behind a buffer that the operation only reads: the GEMM's A and B. */
    private double[] read(Buffer buffer) {
        return ((Storage) buffer.allocation()).data;
    }

    @Override
    protected Allocation doAllocate(int length) {
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
    protected void doUploadFloats(float[] src, int srcOffset, Buffer dst) {
        double[] d = data(dst);
        int o = dst.offset();
        for (int i = 0; i < dst.length(); i++) {
            d[o + i] = (double) src[srcOffset + i];
        }
    }

    @Override
    protected void doDownloadFloats(Buffer src, float[] dst, int dstOffset) {
        double[] s = data(src);
        int o = src.offset();
        for (int i = 0; i < src.length(); i++) {
            dst[dstOffset + i] = (float) s[o + i];
        }
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k,
                          double alpha, Buffer a, int lda, Buffer b, int ldb,
                          double beta, Buffer c, int ldc) {
        if (splitAt > 0 && k >= 2) {
            int k1 = Math.max(1, Math.min(k - 1, (int) (k * splitAt)));
            gemm.gemm(transA, transB, m, n, k1, (double) alpha, read(a), a.offset(), lda, read(b), b.offset(), ldb,
                    (double) beta, data(c), c.offset(), ldc);
            gemm.gemm(transA, transB, m, n, k - k1, (double) alpha, read(a), a.offset() + (transA ? k1 * lda : k1), lda,
                    read(b), b.offset() + (transB ? k1 : k1 * ldb), ldb, 1.0, data(c), c.offset(), ldc);
            return;
        }
        gemm.gemm(transA, transB, m, n, k, (double) alpha, read(a), a.offset(), lda, read(b), b.offset(), ldb,
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
        int g4 = 4 * hidden;
        // Row by row, in loops that C2 vectorises: every array indexed by the bare loop variable (it keeps a loop
        // scalar when a store and a load use unrelated offsets), so each row's pieces are first copied into the
        // scratch vectors below (System.arraycopy is cheap next to the arithmetic) and the results copied back.
        // Every element gets the same arithmetic in the same order as one scalar loop would give it.
        double[][] v = cellVectors(hidden);
        double[] gi = v[0];
        double[] gf = v[1];
        double[] gg = v[2];
        double[] go2 = v[3];
        double[] cp = v[4];
        double[] cNew = v[5];
        double[] tc = v[6];
        double[] hNew = v[7];
        double[][] bi = {v[8], v[9], v[10], v[11]}; // b_ih and b_hh per gate, at offset 0
        double[][] bh = {v[12], v[13], v[14], v[15]};
        double[][] gate = {gi, gf, gg, go2};
        int[] gateOff = {iOff, fOff, gOff, oOff};
        for (int q = 0; q < 4; q++) {
            System.arraycopy(biv, bio + gateOff[q], bi[q], 0, hidden);
            System.arraycopy(bhv, bho + gateOff[q], bh[q], 0, hidden);
        }
        for (int r = 0; r < batch; r++) {
            int zr = zo + r * g4;
            int gr = go + r * g4;
            int sr = r * hidden;
            for (int q = 0; q < 4; q++) { // read before the gates, which may be preact, are written
                double[] x = gate[q];
                double[] b1 = bi[q];
                double[] b2 = bh[q];
                System.arraycopy(zv, zr + gateOff[q], x, 0, hidden);
                for (int j = 0; j < hidden; j++) {
                    x[j] = x[j] + b1[j] + b2[j];
                }
            }
            CpuActivations64.sigmoid(gi, 0, hidden);
            CpuActivations64.sigmoid(gf, 0, hidden);
            CpuActivations64.tanh(gg, 0, hidden);
            CpuActivations64.sigmoid(go2, 0, hidden);
            for (int q = 0; q < 4; q++) {
                System.arraycopy(gate[q], 0, gv, gr + gateOff[q], hidden);
            }
            System.arraycopy(cpv, cpo + sr, cp, 0, hidden);
            for (int j = 0; j < hidden; j++) {
                cNew[j] = gf[j] * cp[j] + gi[j] * gg[j];
            }
            System.arraycopy(cNew, 0, cv, co + sr, hidden);
            System.arraycopy(cNew, 0, tc, 0, hidden);
            CpuActivations64.tanh(tc, 0, hidden);
            for (int j = 0; j < hidden; j++) {
                hNew[j] = go2[j] * tc[j];
            }
            System.arraycopy(hNew, 0, hv, ho + sr, hidden);
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
        // As the forward: offset-0 vectors, so that C2 vectorises the loops; each element's arithmetic is the scalar
        // formula's, in its order.
        double[][] v = cellVectors(hidden);
        double[] gi = v[0];
        double[] gf = v[1];
        double[] gg = v[2];
        double[] go2 = v[3];
        double[] cp = v[4];
        double[] tc = v[5];
        double[] dhr = v[6];
        double[] dc = v[7];
        double[] di = v[8];
        double[] df = v[9];
        double[] dg = v[10];
        double[] dO = v[11];
        double[] dcp = v[12];
        for (int r = 0; r < batch; r++) {
            int gr = go + r * 4 * hidden;
            int zr = dzo + r * 4 * hidden;
            int sr = r * hidden;
            System.arraycopy(gv, gr + iOff, gi, 0, hidden);
            System.arraycopy(gv, gr + fOff, gf, 0, hidden);
            System.arraycopy(gv, gr + gOff, gg, 0, hidden);
            System.arraycopy(gv, gr + oOff, go2, 0, hidden);
            System.arraycopy(cpv, cpo + sr, cp, 0, hidden);
            System.arraycopy(cv, co + sr, tc, 0, hidden);
            CpuActivations64.tanh(tc, 0, hidden); // tanh(c), by the cell's own activation
            System.arraycopy(dhv, dho + sr, dhr, 0, hidden);
            System.arraycopy(dcnv, dcno + sr, dc, 0, hidden); // dcPrev may be dcNext: read here, written last
            for (int j = 0; j < hidden; j++) {
                dc[j] = dhr[j] * go2[j] * (1 - tc[j] * tc[j]) + dc[j];
            }
            for (int j = 0; j < hidden; j++) {
                di[j] = dc[j] * gg[j] * gi[j] * (1 - gi[j]);
            }
            for (int j = 0; j < hidden; j++) {
                df[j] = dc[j] * cp[j] * gf[j] * (1 - gf[j]);
            }
            for (int j = 0; j < hidden; j++) {
                dg[j] = dc[j] * gi[j] * (1 - gg[j] * gg[j]);
            }
            for (int j = 0; j < hidden; j++) {
                dO[j] = dhr[j] * tc[j] * go2[j] * (1 - go2[j]);
            }
            for (int j = 0; j < hidden; j++) {
                dcp[j] = dc[j] * gf[j];
            }
            System.arraycopy(di, 0, dzv, zr + iOff, hidden);
            System.arraycopy(df, 0, dzv, zr + fOff, hidden);
            System.arraycopy(dg, 0, dzv, zr + gOff, hidden);
            System.arraycopy(dO, 0, dzv, zr + oOff, hidden);
            System.arraycopy(dcp, 0, dcpv, dcpo + sr, hidden);
        }
    }

    @Override
    protected void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
        double[] sv = data(src);
        double[] dv = data(dst);
        int so = src.offset();
        int dO = dst.offset();
        // The order of ColumnSums, shared with the CUDA backend's two-stage kernels: per column, the chunks' partial
        // sums over their rows ascending, then those in chunk order. Walked row by row (each row's columns are
        // contiguous) into per-column accumulators, which gives every column the same order as a column-by-column
        // loop without striding through memory: a (3200, 1024) column walk missed the cache at every element.
        int chunkRows = ColumnSums.chunkRows(rows, cols);
        int chunks = ColumnSums.chunks(rows, cols);
        double[] scratch = sumScratch(chunks == 1 ? cols : 2 * cols);
        for (int j = 0; j < cols; j++) {
            scratch[j] = accumulate ? dv[dO + j] : 0;
        }
        if (chunks == 1) {
            for (int r = 0; r < rows; r++) {
                int row = so + r * cols;
                for (int j = 0; j < cols; j++) {
                    scratch[j] += sv[row + j];
                }
            }
        } else {
            for (int c = 0; c < chunks; c++) {
                for (int j = 0; j < cols; j++) {
                    scratch[cols + j] = 0;
                }
                int end = (int) Math.min(rows, (c + 1L) * chunkRows);
                for (int r = c * chunkRows; r < end; r++) {
                    int row = so + r * cols - cols; // scratch[cols + j] += sv[so + r * cols + j]
                    for (int j = cols; j < 2 * cols; j++) {
                        scratch[j] += sv[row + j];
                    }
                }
                for (int j = 0; j < cols; j++) {
                    scratch[j] += scratch[cols + j];
                }
            }
        }
        System.arraycopy(scratch, 0, dv, dO, cols);
    }

    /** The standard cell's 16 scratch vectors of at least {@code hidden} elements, grown on demand. */
    private double[][] cellVectors(int hidden) {
        if (cellVectors == null || cellVectors[0].length < hidden) {
            cellVectors = new double[16][hidden];
        }
        return cellVectors;
    }

    /** Scratch space of at least {@code n} elements for {@link #doSumRows}, grown on demand (one thread uses it). */
    private double[] sumScratch(int n) {
        if (sumScratch == null || sumScratch.length < n) {
            sumScratch = new double[n];
        }
        return sumScratch;
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

    // ---- losses ---------------------------------------------------------------------------------------------------

    @Override
    protected void doCrossEntropyForward(int rows, int classes, Buffer logits, Buffer targets, Buffer loss,
                                         boolean mean) {
        double[] xv = data(logits);
        double[] tv = data(targets);
        double[] lv = data(loss);
        int xo = logits.offset();
        int to = targets.offset();
        int lo = loss.offset();
        checkIndices(tv, to, rows, classes, "targets");
        if (mean) {
            double sum = deterministicSum(rows, Backend.REDUCE_BASE_ROWS,
                r -> crossEntropyRow(xv, xo + r * classes, classes, (int) tv[to + r]));
            lv[lo] = sum / rows;
        } else {
            for (int r = 0; r < rows; r++) {
                lv[lo + r] = crossEntropyRow(xv, xo + r * classes, classes, (int) tv[to + r]);
            }
        }
    }

    /** One row's loss, {@code -((x[t] - m) - log(sum_j exp(x[j] - m)))} with {@code m} the row's largest logit. */
    private static double crossEntropyRow(double[] xv, int row, int classes, int target) {
        double m = rowMax(xv, row, classes);
        double s = 0;
        for (int j = 0; j < classes; j++) {
            s += Math.exp(xv[row + j] - m);
        }
        return -((xv[row + target] - m) - Math.log(s));
    }

    /** The largest of a row's values, scanned in ascending order with {@code >} (as the kernels do). */
    private static double rowMax(double[] xv, int row, int classes) {
        double m = xv[row];
        for (int j = 1; j < classes; j++) {
            double x = xv[row + j];
            if (x > m) {
                m = x;
            }
        }
        return m;
    }

    @Override
    protected void doCrossEntropyBackward(int rows, int classes, Buffer logits, Buffer targets, double scale,
                                          Buffer dLogits) {
        double[] xv = data(logits);
        double[] tv = data(targets);
        double[] dv = data(dLogits);
        int xo = logits.offset();
        int to = targets.offset();
        int dO = dLogits.offset();
        checkIndices(tv, to, rows, classes, "targets");
        double sc = (double) scale;
        for (int r = 0; r < rows; r++) {
            int row = xo + r * classes;
            int drow = dO + r * classes;
            int target = (int) tv[to + r];
            double m = rowMax(xv, row, classes);
            double s = 0;
            for (int j = 0; j < classes; j++) {
                s += Math.exp(xv[row + j] - m);
            }
            for (int j = 0; j < classes; j++) {
                double prob = Math.exp(xv[row + j] - m) / s;
                dv[drow + j] = (j == target ? prob - 1 : prob) * sc;
            }
        }
    }

    @Override
    protected void doMseForward(Buffer pred, Buffer target, Buffer loss) {
        double[] pv = data(pred);
        double[] tv = data(target);
        int po = pred.offset();
        int to = target.offset();
        int n = pred.length();
        double sum = deterministicSum(n, Backend.REDUCE_BASE_ELEMENTS, i -> {
            double d = pv[po + i] - tv[to + i];
            return d * d;
        });
        data(loss)[loss.offset()] = sum / n;
    }

    @Override
    protected void doMseBackward(Buffer pred, Buffer target, double scale, Buffer dPred) {
        double[] pv = data(pred);
        double[] tv = data(target);
        double[] dv = data(dPred);
        int po = pred.offset();
        int to = target.offset();
        int dO = dPred.offset();
        double sc = (double) scale;
        for (int i = 0; i < pred.length(); i++) {
            dv[dO + i] = (pv[po + i] - tv[to + i]) * sc;
        }
    }

    // ---- layers -------------------------------------------------------------------------------------------------

    @Override
    protected void doEmbeddingForward(int vocab, int dim, Buffer table, Buffer indices, Buffer out) {
        double[] wv = data(table);
        double[] iv = data(indices);
        double[] ov = data(out);
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
        double[] iv = data(indices);
        double[] gv = data(dOut);
        double[] dv = data(dTable);
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
        double[] xv = data(x);
        double[] bv = data(bias);
        double[] yv = data(y);
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
        double[] xv = data(x);
        double[] mv = data(mask);
        double[] yv = data(y);
        int xo = x.offset();
        int mo = mask.offset();
        int yo = y.offset();
        long threshold = Philox.dropThreshold(p);  // f32: unchanged
        double keep = (double) (1 - p);  // f32: float keep = (float) (1 - p);
        double scale = 1 / keep;
        int[] words = new int[4];
        for (int i = 0; i < x.length(); i++) {
            if ((i & 3) == 0) {
                Philox.block(seed, offset + (i >>> 2), words);
            }
            double m = (words[i & 3] & 0xffffffffL) < threshold ? 0 : scale;
            mv[mo + i] = m;
            yv[yo + i] = xv[xo + i] * m;
        }
    }

    @Override
    protected void doDropoutBackward(Buffer dy, Buffer mask, Buffer dx) {
        double[] dyv = data(dy);
        double[] mv = data(mask);
        double[] dxv = data(dx);
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
        double[] xv = data(x);
        int xo = x.offset();
        double sum = deterministicSum(x.length(), Backend.REDUCE_BASE_ELEMENTS, i -> xv[xo + i] * xv[xo + i]);
        data(norm)[norm.offset()] = Math.sqrt(sum);
    }

    @Override
    protected void doClipCoefficient(Buffer norm, double maxNorm, Buffer coef) {
        double total = data(norm)[norm.offset()];
        double c = 1 / (total + (double) 1e-6) * (double) maxNorm;
        data(coef)[coef.offset()] = c > 1 ? 1 : c;
    }

    @Override
    protected void doScaleBy(Buffer x, Buffer factor) {
        double[] xv = data(x);
        int xo = x.offset();
        double f = data(factor)[factor.offset()];
        for (int i = 0; i < x.length(); i++) {
            xv[xo + i] = xv[xo + i] * f;
        }
    }

    @Override
    protected void doAdamUpdate(Buffer params, Buffer grads, Buffer expAvg, Buffer expAvgSq, Buffer step, double lr,
                                double beta1, double beta2, double eps, double weightDecay) {
        double[] pv = data(params);
        double[] gv = data(grads);
        double[] mv = data(expAvg);
        double[] vv = data(expAvgSq);
        double[] sv = data(step);
        int po = params.offset();
        int go = grads.offset();
        int mo = expAvg.offset();
        int vo = expAvgSq.offset();
        double t = sv[step.offset()] + 1;
        sv[step.offset()] = t;
        // The step's scalars in double, as PyTorch computes them in Python, then rounded once to the precision.
        double negStepSize = (double) CpuScalars.adamNegStepSize(lr, beta1, t);  // f32: float negStepSize = (float) CpuScalars.adamNegStepSize(lr, beta1, t);
        double bc2Sqrt = (double) CpuScalars.adamBias2Sqrt(beta2, t);  // f32: float bc2Sqrt = (float) CpuScalars.adamBias2Sqrt(beta2, t);
        double w = (double) (1 - beta1);  // f32: float w = (float) (1 - beta1);
        double oneMinusW = 1 - w;
        double b2 = (double) beta2;
        double oneMinusB2 = (double) (1 - beta2);  // f32: float oneMinusB2 = (float) (1 - beta2);
        double e = (double) eps;
        double wd = (double) weightDecay;
        boolean decay = weightDecay != 0;  // f32: unchanged
        boolean small = w < 0.5;
        for (int i = 0; i < params.length(); i++) {
            double p = pv[po + i];
            double g = gv[go + i];
            if (decay) {
                g = g + wd * p;
            }
            double m = mv[mo + i];
            m = small ? m + w * (g - m) : g - (g - m) * oneMinusW;
            double v = vv[vo + i] * b2 + oneMinusB2 * g * g;
            mv[mo + i] = m;
            vv[vo + i] = v;
            double denom = Math.sqrt(v) / bc2Sqrt + e;
            pv[po + i] = p + negStepSize * m / denom;
        }
    }

    @Override
    protected void doSgdMomentumUpdate(Buffer params, Buffer grads, Buffer momentumBuffer, Buffer step, double lr,
                                       double momentum, double weightDecay) {
        double[] pv = data(params);
        double[] gv = data(grads);
        double[] bv = data(momentumBuffer);
        double[] sv = data(step);
        int po = params.offset();
        int go = grads.offset();
        int bo = momentumBuffer.offset();
        boolean first = sv[step.offset()] == 0;
        double negLr = (double) -lr;  // f32: float negLr = (float) -lr;
        double mom = (double) momentum;
        double wd = (double) weightDecay;
        boolean decay = weightDecay != 0;  // f32: unchanged
        for (int i = 0; i < params.length(); i++) {
            double p = pv[po + i];
            double g = gv[go + i];
            if (decay) {
                g = g + wd * p;
            }
            double buf = first ? g : bv[bo + i] * mom + g;
            bv[bo + i] = buf;
            pv[po + i] = p + negLr * buf;
        }
        sv[step.offset()] = sv[step.offset()] + 1;
    }

    // ---- helpers of the new operations ----------------------------------------------------------------------------

    /** One item of a deterministic reduction: what item {@code i} contributes. */
    private interface Item {
        double at(int i);
    }

    /**
     * The sum of items {@code 0 .. n-1} in {@link Backend}'s deterministic order: chunks of
     * {@link Backend#reduceChunk} items, each summed by {@link #laneSum}, then the chunk sums by {@link #laneSum}.
     */
    private static double deterministicSum(int n, int base, Item item) {
        int chunk = Backend.reduceChunk(n, base);
        int chunks = (int) (((long) n + chunk - 1) / chunk);
        double[] partials = new double[chunks];
        for (int c = 0; c < chunks; c++) {
            long start = (long) c * chunk;
            partials[c] = laneSum(start, Math.min(start + chunk, n), item);
        }
        return laneSum(0, chunks, i -> partials[i]);
    }

    /** Items {@code [start, end)}: lane {@code t} adds items {@code start + t + 256k} from 0, then pairwise. */
    private static double laneSum(long start, long end, Item item) {
        double[] lanes = new double[Backend.REDUCE_LANES];
        for (int t = 0; t < lanes.length; t++) {
            double acc = 0;
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
    private static void checkIndices(double[] v, int off, int n, int limit, String name) {
        for (int i = 0; i < n; i++) {
            double value = v[off + i];
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

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }
}
