package org.rnn4j.backend.cpu;

/**
 * Per-step scalars both CPU backends compute in double whatever their precision (PyTorch computes them in Python),
 * kept apart from {@link CpuBackend64} / {@link CpuBackend32} so that the float32 source, made from the float64 one by
 * substituting {@code float} for {@code double}, calls the same double arithmetic and rounds only its result.
 */
final class CpuScalars {

    private CpuScalars() {
    }

    /** Adam's {@code -step_size = -(lr / (1 - beta1^t))}. */
    static double adamNegStepSize(double lr, double beta1, double t) {
        return -(lr / (1 - Math.pow(beta1, t)));
    }

    /** Adam's {@code bias_correction2_sqrt = sqrt(1 - beta2^t)}. */
    static double adamBias2Sqrt(double beta2, double t) {
        return Math.sqrt(1 - Math.pow(beta2, t));
    }
}
