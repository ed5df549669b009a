package org.rnn4j.nn;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Buffer;

/**
 * PyTorch's {@code torch.nn.utils.clip_grad_norm_(params, maxNorm)} (norm type 2) over every gradient of a
 * {@link ParameterArena}, computed on the device: the total norm {@code sqrt(sum g^2)} over all gradients
 * ({@link Backend#l2Norm}, deterministic), the factor {@code min(1, maxNorm / (norm + 1e-6))}
 * ({@link Backend#clipCoefficient}) and the scaling of every gradient by it ({@link Backend#scaleBy}). Nothing is
 * downloaded unless asked: {@link #norm()} stays on the device, {@link #lastNorm()} reads it. Not thread-safe.
 */
public final class GradientClipping implements AutoCloseable {

    private final ParameterArena arena;
    private final Backend backend;
    private final Buffer scalars; // [norm | coef]
    private final Buffer norm;
    private final Buffer coef;

    /**
     * @param arena the gradients to clip
     */
    public GradientClipping(ParameterArena arena) {
        this.arena = Checks.notNull(arena, "arena");
        this.backend = arena.backend();
        this.scalars = backend.allocate(2);
        this.norm = scalars.slice(0, 1);
        this.coef = scalars.slice(1, 1);
    }

    /**
     * Scales every gradient by {@code min(1, maxNorm / (totalNorm + 1e-6))}, keeping the total norm (before
     * clipping, as PyTorch returns it) in {@link #norm()}.
     *
     * @param maxNorm the largest total norm kept, finite and not negative
     * @throws IllegalArgumentException when {@code maxNorm} is negative or not finite
     */
    public void clipGradNorm(double maxNorm) {
        Adam.nonNegative(maxNorm, "maxNorm");
        backend.l2Norm(arena.grads(), norm);
        backend.clipCoefficient(norm, maxNorm, coef);
        backend.scaleBy(arena.grads(), coef);
    }

    /**
     * Computes the total norm of the gradients into {@link #norm()} without clipping.
     */
    public void computeNorm() {
        backend.l2Norm(arena.grads(), norm);
    }

    /** @return the one-element buffer holding the last total norm, on the device */
    public Buffer norm() {
        return norm;
    }

    /** @return the one-element buffer holding the last clipping factor, on the device */
    public Buffer coefficient() {
        return coef;
    }

    /** @return the total norm before the last {@link #clipGradNorm} (or {@link #computeNorm}); waits for the device */
    public double lastNorm() {
        return backend.download(norm)[0];
    }

    /** @return the arena whose gradients it clips */
    public ParameterArena arena() {
        return arena;
    }

    /** Releases the two scalars. Idempotent. */
    @Override
    public void close() {
        scalars.close();
    }
}
