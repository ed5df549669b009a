package org.rnn4j.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.rnn4j.backend.Precision;

/**
 * The argument list of one kernel launch, in the order of the kernel's parameters, as {@code cuLaunchKernel} wants it:
 * a pointer to an array of pointers, one to each argument's value. Scalars of the element type are passed as
 * {@code float} or {@code double} to match the {@code _f32} or {@code _f64} entry point.
 */
final class KernelArgs {

    private final Precision precision;
    private final List<Pointer> args = new ArrayList<>(16);

    KernelArgs(Precision precision) {
        this.precision = precision;
    }

    KernelArgs i(int value) {
        args.add(Pointer.to(new int[] {value}));
        return this;
    }

    KernelArgs flag(boolean value) {
        return i(value ? 1 : 0);
    }

    /** A scalar of the element type, rounded to it in float32. */
    KernelArgs scalar(double value) {
        args.add(precision == Precision.FLOAT32 ? Pointer.to(new float[] {(float) value})
                : Pointer.to(new double[] {value}));
        return this;
    }

    /** A {@code double} whatever the precision (the scalars some kernels compute with in double). */
    KernelArgs f64(double value) {
        args.add(Pointer.to(new double[] {value}));
        return this;
    }

    KernelArgs ptr(CUdeviceptr pointer) {
        args.add(Pointer.to(pointer));
        return this;
    }

    Pointer toPointer() {
        return Pointer.to(args.toArray(new Pointer[0]));
    }
}
