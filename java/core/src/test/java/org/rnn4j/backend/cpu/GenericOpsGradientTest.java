package org.rnn4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * Finite-difference checks, in float64, of the backward operations against their forwards: cross-entropy (mean),
 * mean squared error, the embedding's scatter-add, bias-add (through {@link Backend#sumRows}) and dropout with a fixed
 * mask. Each loss {@code L} is a scalar of the forward's output; the analytic gradient from the backward operation is
 * compared with the central difference {@code (L(x + h) - L(x - h)) / 2h}, {@code h = 1e-6}, within
 * {@code 1e-6 * |g| + 1e-8} (the central difference's truncation error is {@code O(h^2)}, its rounding error
 * {@code O(u / h)}, both far below that; a wrong sign, factor or index is off by the gradient's size).
 */
class GenericOpsGradientTest {

    private static final double H = 1e-6;

    private static double[] random(SplittableRandom rng, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rng.nextDouble() * 2 - 1) * scale;
        }
        return x;
    }

    /** Compares {@code analytic} with central differences of {@code loss} at every coordinate of {@code x}. */
    private static void check(String what, double[] x, double[] analytic, ToDoubleFunction<double[]> loss) {
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + H;
            double up = loss.applyAsDouble(x);
            x[i] = keep - H;
            double down = loss.applyAsDouble(x);
            x[i] = keep;
            double numeric = (up - down) / (2 * H);
            if (!(Math.abs(numeric - analytic[i]) <= 1e-6 * Math.abs(analytic[i]) + 1e-8)) {
                if (count++ < 8) {
                    bad.append(String.format("%n  [%d] analytic %.12g numeric %.12g", i, analytic[i], numeric));
                }
            }
        }
        if (count > 0) {
            fail(what + ": " + count + " of " + x.length + " gradients disagree with finite differences:" + bad);
        }
    }

    private static Buffer up(Backend be, double[] v) {
        Buffer b = be.allocate(v.length);
        be.upload(v, b);
        return b;
    }

    @Test
    void crossEntropyMean() {
        int rows = 5;
        int classes = 7;
        SplittableRandom rng = new SplittableRandom(1);
        double[] logits = random(rng, rows * classes, 3);
        double[] targets = {0, 6, 3, 3, 1};
        try (Backend be = new CpuBackend64()) {
            Buffer x = up(be, logits);
            Buffer t = up(be, targets);
            Buffer loss = be.allocate(1);
            Buffer dx = be.allocate(rows * classes);
            be.crossEntropyBackward(rows, classes, x, t, 1.0 / rows, dx);
            check("cross-entropy", logits, be.download(dx), v -> {
                be.upload(v, x);
                be.crossEntropyForward(rows, classes, x, t, loss, true);
                return be.download(loss)[0];
            });
        }
    }

    @Test
    void crossEntropySumPerRow() {
        int rows = 3;
        int classes = 4;
        SplittableRandom rng = new SplittableRandom(2);
        double[] logits = random(rng, rows * classes, 2);
        double[] targets = {3, 0, 2};
        try (Backend be = new CpuBackend64()) {
            Buffer x = up(be, logits);
            Buffer t = up(be, targets);
            Buffer loss = be.allocate(rows);
            Buffer dx = be.allocate(rows * classes);
            be.crossEntropyBackward(rows, classes, x, t, 1.0, dx);
            check("cross-entropy, sum of the rows' losses", logits, be.download(dx), v -> {
                be.upload(v, x);
                be.crossEntropyForward(rows, classes, x, t, loss, false);
                double sum = 0;
                for (double l : be.download(loss)) {
                    sum += l;
                }
                return sum;
            });
        }
    }

    @Test
    void meanSquaredError() {
        int n = 13;
        SplittableRandom rng = new SplittableRandom(3);
        double[] pred = random(rng, n, 2);
        try (Backend be = new CpuBackend64()) {
            Buffer p = up(be, pred);
            Buffer t = up(be, random(rng, n, 2));
            Buffer loss = be.allocate(1);
            Buffer d = be.allocate(n);
            be.mseBackward(p, t, 2.0 / n, d);
            check("mse", pred, be.download(d), v -> {
                be.upload(v, p);
                be.mseForward(p, t, loss);
                return be.download(loss)[0];
            });
        }
    }

    @Test
    void embeddingScatterAdd() {
        int vocab = 6;
        int dim = 4;
        double[] idx = {2, 0, 2, 5, 1, 2, 5, 0, 3};
        int n = idx.length;
        SplittableRandom rng = new SplittableRandom(4);
        double[] table = random(rng, vocab * dim, 1);
        double[] weights = random(rng, n * dim, 1);
        try (Backend be = new CpuBackend64()) {
            Buffer w = up(be, table);
            Buffer ix = up(be, idx);
            Buffer out = be.allocate(n * dim);
            // L = sum (out^2 / 2) * weights: dL/dout = out * weights.
            be.embeddingForward(vocab, dim, w, ix, out);
            double[] o = be.download(out);
            double[] dOut = new double[n * dim];
            for (int i = 0; i < dOut.length; i++) {
                dOut[i] = o[i] * weights[i];
            }
            Buffer dTable = be.allocate(vocab * dim);
            be.embeddingBackward(vocab, dim, ix, up(be, dOut), dTable, false);
            check("embedding", table, be.download(dTable), v -> {
                be.upload(v, w);
                be.embeddingForward(vocab, dim, w, ix, out);
                double[] ov = be.download(out);
                double l = 0;
                for (int i = 0; i < ov.length; i++) {
                    l += ov[i] * ov[i] / 2 * weights[i];
                }
                return l;
            });
        }
    }

    @Test
    void biasAddThroughSumRows() {
        int rows = 5;
        int cols = 3;
        SplittableRandom rng = new SplittableRandom(5);
        double[] xs = random(rng, rows * cols, 1);
        double[] bias = random(rng, cols, 1);
        double[] weights = random(rng, rows * cols, 1);
        try (Backend be = new CpuBackend64()) {
            Buffer x = up(be, xs);
            Buffer b = up(be, bias);
            Buffer y = be.allocate(rows * cols);
            ToDoubleFunction<double[]> lossOfY = yv -> {
                double l = 0;
                for (int i = 0; i < yv.length; i++) {
                    l += yv[i] * yv[i] / 2 * weights[i];
                }
                return l;
            };
            be.biasAdd(rows, cols, x, b, y);
            double[] yv = be.download(y);
            double[] dy = new double[yv.length];
            for (int i = 0; i < dy.length; i++) {
                dy[i] = yv[i] * weights[i];
            }
            Buffer dBias = be.allocate(cols);
            be.sumRows(rows, cols, up(be, dy), dBias, false);
            check("bias-add, bias", bias, be.download(dBias), v -> {
                be.upload(v, b);
                be.biasAdd(rows, cols, x, b, y);
                return lossOfY.applyAsDouble(be.download(y));
            });
            be.upload(bias, b);
            check("bias-add, x", xs, dy, v -> {
                be.upload(v, x);
                be.biasAdd(rows, cols, x, b, y);
                return lossOfY.applyAsDouble(be.download(y));
            });
        }
    }

    @Test
    void dropoutWithAFixedMask() {
        int n = 40;
        SplittableRandom rng = new SplittableRandom(6);
        double[] xs = random(rng, n, 1);
        double[] weights = random(rng, n, 1);
        try (Backend be = new CpuBackend64()) {
            Buffer x = up(be, xs);
            Buffer mask = be.allocate(n);
            Buffer y = be.allocate(n);
            be.dropoutForward(x, 0.4, 11, 3, mask, y); // the same seed and offset each time: the same mask
            double[] yv = be.download(y);
            double[] dy = new double[n];
            for (int i = 0; i < n; i++) {
                dy[i] = yv[i] * weights[i];
            }
            Buffer dx = be.allocate(n);
            be.dropoutBackward(up(be, dy), mask, dx);
            check("dropout", xs, be.download(dx), v -> {
                be.upload(v, x);
                be.dropoutForward(x, 0.4, 11, 3, mask, y);
                double[] out = be.download(y);
                double l = 0;
                for (int i = 0; i < n; i++) {
                    l += out[i] * out[i] / 2 * weights[i];
                }
                return l;
            });
        }
    }
}
