package org.rnn4j.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import jcuda.Pointer;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.CUmemorytype;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasMath;
import jcuda.jcublas.cublasOperation;
import jcuda.jcublas.cublasPointerMode;
import jcuda.runtime.cudaStream_t;
import org.rnn4j.backend.AbstractBackend;
import org.rnn4j.backend.Backend.Replay;
import org.rnn4j.backend.Buffer;
import org.rnn4j.backend.Precision;
import org.rnn4j.kernels.KernelImages;

/**
 * The CUDA backend: buffers in device memory, rnn4j's own kernels for the elementwise work, and GEMMs by cuBLAS (or the
 * built-in tiled kernel when cuBLAS cannot be loaded), all queued in order on one stream of the device's primary
 * context. No operation waits for the device except {@link #download} and {@link #synchronize}; {@link #upload} fills one
 * of two pinned host buffers and copies asynchronously (it waits only when that buffer's previous copy, two uploads
 * back, has not finished). {@link #record} captures a CUDA graph.
 *
 * <p>One class serves both precisions: device memory is untyped, and the precision picks the {@code _f32} or
 * {@code _f64} kernels, {@code cublasSgemm} or {@code cublasDgemm}, and the width of scalars and host transfers.
 * Created only through {@link CudaBackendProvider} once {@link CudaProbe} has said CUDA is usable.
 */
public final class CudaBackend extends AbstractBackend {

    private final class DeviceMemory extends Buffer.Allocation {
        private final CUdeviceptr base;

        DeviceMemory(int length) {
            super(CudaBackend.this, length);
            CUdeviceptr p = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(p, bytes(length));
            this.base = p;
            // Zero-filled, as Backend.allocate promises; ordered before any later work on the stream.
            JCudaDriver.cuMemsetD8Async(base, (byte) 0, bytes(length), stream);
        }

        @Override
        protected void release() {
            JCudaDriver.cuCtxSetCurrent(context);
            JCudaDriver.cuMemFree(base);
        }
    }

    /** CUDA's limit on a grid's y dimension. */
    private static final int MAX_GRID_Y = 65535;

    private final CudaProbe.Device device;
    private final CudaProbe.GemmPath gemmPath;
    private final String driverVersion;
    private final int elementBytes;
    private final CUdevice deviceHandle = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final CUstream stream = new CUstream();
    private final CudaKernels kernels;
    private final cublasHandle cublas;
    /**
     * cuBLAS's workspace, owned here: set once so that cuBLAS never allocates during a graph capture (NVIDIA's
     * advice for graphs: 32 MiB covers Hopper's kernels).
     */
    private final CUdeviceptr cublasWorkspace;
    private static final long CUBLAS_WORKSPACE_BYTES = 32L << 20;
    /** Pinned host staging for transfers: two buffers, so one upload can fill while the other is still copying. */
    private final Staging[] staging = {new Staging(), new Staging()};
    private int nextStaging;

    CudaBackend(Precision precision, CudaProbe.Result probe, CudaProbe.GemmPath gemmPath) {
        super(precision);
        if (!probe.usable()) {
            throw new IllegalStateException("CUDA is not usable here: " + probe.reason());
        }
        this.device = probe.device();
        this.gemmPath = gemmPath;
        this.driverVersion = probe.driverText();
        this.elementBytes = precision.bytes();
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuDeviceGet(deviceHandle, device.ordinal());
        JCudaDriver.cuDevicePrimaryCtxRetain(context, deviceHandle);
        CudaKernels loaded = null;
        cublasHandle handle = null;
        CUdeviceptr workspace = null;
        try {
            JCudaDriver.cuCtxSetCurrent(context);
            JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            loaded = new CudaKernels(precision);
            if (gemmPath.cublas()) {
                JCublas2.setExceptionsEnabled(true);
                handle = new cublasHandle();
                JCublas2.cublasCreate(handle);
                JCublas2.cublasSetStream(handle, new cudaStream_t(stream));
                JCublas2.cublasSetPointerMode(handle, cublasPointerMode.CUBLAS_POINTER_MODE_HOST);
                // Plain IEEE arithmetic: no TF32 for float32, so results can be held to the CPU's.
                JCublas2.cublasSetMathMode(handle, cublasMath.CUBLAS_DEFAULT_MATH);
                CUdeviceptr w = new CUdeviceptr();
                JCudaDriver.cuMemAlloc(w, CUBLAS_WORKSPACE_BYTES);
                workspace = w;
                JCublas2.cublasSetWorkspace(handle, workspace, CUBLAS_WORKSPACE_BYTES);
            }
        } catch (RuntimeException | LinkageError e) {
            if (handle != null) {
                JCublas2.cublasDestroy(handle);
            }
            if (workspace != null) {
                JCudaDriver.cuMemFree(workspace);
            }
            if (loaded != null) {
                loaded.close();
            }
            JCudaDriver.cuDevicePrimaryCtxRelease(deviceHandle);
            throw e;
        }
        this.kernels = loaded;
        this.cublas = handle;
        this.cublasWorkspace = workspace;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String description() {
        return String.format(Locale.ROOT, "CUDA on %s (%s, driver %s), %s, %s", device.name(), device.arch(),
                driverVersion, precision().cliName(), gemmPath.line());
    }

    /** Which GEMM path this backend uses, and why. */
    public CudaProbe.GemmPath gemmPath() {
        return gemmPath;
    }

    /** The device's free memory now ({@code cuMemGetInfo}), for estimates before allocating. */
    @Override
    public java.util.OptionalLong deviceFreeBytes() {
        if (isClosed()) {
            throw new IllegalStateException("the backend is closed");
        }
        bind();
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return java.util.OptionalLong.of(free[0]);
    }

    private long bytes(long elements) {
        return elements * elementBytes;
    }

    /** The device address of a buffer's first element. */
    private CUdeviceptr ptr(Buffer buffer) {
        DeviceMemory m = (DeviceMemory) buffer.allocation();
        return m.base.withByteOffset(bytes(buffer.offset()));
    }

    private void bind() {
        JCudaDriver.cuCtxSetCurrent(context);
    }

    private KernelArgs args() {
        return new KernelArgs(precision());
    }

    /** One thread per element, in blocks of {@link KernelImages#ELEMENTWISE_BLOCK}. */
    private void launch1d(String kernel, int elements, KernelArgs args) {
        int block = KernelImages.ELEMENTWISE_BLOCK;
        int grid = (int) ((elements + (long) block - 1) / block);
        CUfunction f = kernels.get(kernel);
        JCudaDriver.cuLaunchKernel(f, grid, 1, 1, block, 1, 1, 0, stream, args.toPointer(), null);
    }

    /** Transfers go through the staging buffer in chunks of at most this many elements (8 MiB of float64). */
    private static final int CHUNK = 1 << 20;

    /**
     * One pinned (page-locked) host buffer, grown on demand up to one chunk, and the event recorded after the last
     * copy out of it: copies from pinned memory are truly asynchronous, so the buffer may be refilled only once that
     * copy has finished.
     */
    private final class Staging {
        private Pointer host;
        private ByteBuffer view = ByteBuffer.allocateDirect(0);
        private CUevent copied;
        private boolean pending;

        /** The buffer, empty, with room for {@code bytes}, after its previous copy has finished. */
        ByteBuffer take(long bytes) {
            if (pending) {
                JCudaDriver.cuEventSynchronize(copied);
                pending = false;
            }
            if (view.capacity() < bytes) {
                release();
                long size = Math.min(Math.max(bytes, view.capacity() * 2L), (long) CHUNK * Double.BYTES);
                Pointer p = new Pointer();
                JCudaDriver.cuMemAllocHost(p, size);
                host = p;
                view = p.getByteBuffer(0, size).order(ByteOrder.nativeOrder());
            }
            view.clear();
            return view;
        }

        Pointer pointer() {
            return host;
        }

        /** Marks the copy just issued from this buffer; the next {@link #take} waits for it. */
        void copyIssued() {
            if (copied == null) {
                copied = new CUevent();
                JCudaDriver.cuEventCreate(copied, CUevent_flags.CU_EVENT_DISABLE_TIMING);
            }
            JCudaDriver.cuEventRecord(copied, stream);
            pending = true;
        }

        void release() {
            if (host != null) {
                JCudaDriver.cuMemFreeHost(host);
                host = null;
                view = ByteBuffer.allocateDirect(0);
            }
        }

        void close() {
            release();
            if (copied != null) {
                JCudaDriver.cuEventDestroy(copied);
                copied = null;
            }
        }
    }

    private Staging nextStaging() {
        Staging s = staging[nextStaging];
        nextStaging = (nextStaging + 1) % staging.length;
        return s;
    }

    @Override
    protected Buffer.Allocation doAllocate(int length) {
        bind();
        return new DeviceMemory(length);
    }

    @Override
    protected void doUpload(double[] src, int srcOffset, Buffer dst) {
        bind();
        CUdeviceptr base = ptr(dst);
        for (int done = 0; done < dst.length(); done += CHUNK) {
            int n = Math.min(CHUNK, dst.length() - done);
            Staging slot = nextStaging();
            ByteBuffer host = slot.take(bytes(n));
            if (precision() == Precision.FLOAT32) {
                for (int i = 0; i < n; i++) {
                    host.putFloat(i * Float.BYTES, (float) src[srcOffset + done + i]);
                }
            } else {
                host.asDoubleBuffer().put(src, srcOffset + done, n);
            }
            // Asynchronous from pinned memory: the call returns at once, the copy runs in stream order.
            JCudaDriver.cuMemcpyHtoDAsync(base.withByteOffset(bytes(done)), slot.pointer(), bytes(n), stream);
            slot.copyIssued();
        }
    }

    @Override
    protected void doDownload(Buffer src, double[] dst, int dstOffset) {
        bind();
        CUdeviceptr base = ptr(src);
        for (int done = 0; done < src.length(); done += CHUNK) {
            int n = Math.min(CHUNK, src.length() - done);
            Staging slot = nextStaging();
            ByteBuffer host = slot.take(bytes(n));
            JCudaDriver.cuMemcpyDtoHAsync(slot.pointer(), base.withByteOffset(bytes(done)), bytes(n), stream);
            JCudaDriver.cuStreamSynchronize(stream); // waits for all earlier work on the stream, then for the copy
            if (precision() == Precision.FLOAT32) {
                for (int i = 0; i < n; i++) {
                    dst[dstOffset + done + i] = host.getFloat(i * Float.BYTES);
                }
            } else {
                host.asDoubleBuffer().get(dst, dstOffset + done, n);
            }
        }
    }

    @Override
    protected void doGemm(boolean transA, boolean transB, int m, int n, int k,
                          double alpha, Buffer a, int lda, Buffer b, int ldb,
                          double beta, Buffer c, int ldc) {
        bind();
        if (cublas != null) {
            // cuBLAS is column-major; a row-major (m, n) C is a column-major (n, m) C^T = op(B)^T op(A)^T, so the
            // operands swap places and keep their leading dimensions.
            int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
            int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
            if (precision() == Precision.FLOAT32) {
                JCublas2.cublasSgemm(cublas, opB, opA, n, m, k, Pointer.to(new float[] {(float) alpha}),
                        ptr(b), ldb, ptr(a), lda, Pointer.to(new float[] {(float) beta}), ptr(c), ldc);
            } else {
                JCublas2.cublasDgemm(cublas, opB, opA, n, m, k, Pointer.to(new double[] {alpha}),
                        ptr(b), ldb, ptr(a), lda, Pointer.to(new double[] {beta}), ptr(c), ldc);
            }
            return;
        }
        // The built-in kernel: one 16x16 tile of C per block, grid (ceil(n/16), ceil(m/16)). A grid's y dimension is
        // limited to 65535 blocks, so taller products run in bands of rows: a band of C starts at row r0, and so does
        // A's band (at element r0 of each row of the stored A when A is transposed).
        int tile = KernelImages.GEMM_TILE;
        int bandRows = MAX_GRID_Y * tile;
        for (int r0 = 0; r0 < m; r0 += bandRows) {
            int rows = Math.min(bandRows, m - r0);
            CUdeviceptr aBand = ptr(a).withByteOffset(bytes(transA ? r0 : (long) r0 * lda));
            CUdeviceptr cBand = ptr(c).withByteOffset(bytes((long) r0 * ldc));
            KernelArgs args = args().flag(transA).flag(transB).i(rows).i(n).i(k).scalar(alpha).ptr(aBand).i(lda)
                    .ptr(ptr(b)).i(ldb).scalar(beta).ptr(cBand).i(ldc);
            JCudaDriver.cuLaunchKernel(kernels.get(CudaKernels.GEMM), (n + tile - 1) / tile, (rows + tile - 1) / tile,
                    1, tile, tile, 1, 0, stream, args.toPointer(), null);
        }
    }

    @Override
    protected void doCopyMatrix(int rows, int cols, Buffer src, int ldSrc, Buffer dst, int ldDst) {
        bind();
        CUDA_MEMCPY2D copy = new CUDA_MEMCPY2D();
        copy.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.srcDevice = ptr(src);
        copy.srcPitch = bytes(ldSrc);
        copy.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        copy.dstDevice = ptr(dst);
        copy.dstPitch = bytes(ldDst);
        copy.WidthInBytes = bytes(cols);
        copy.Height = rows;
        JCudaDriver.cuMemcpy2DAsync(copy, stream);
    }

    @Override
    protected void doSigmoidForward(Buffer x, Buffer y) {
        bind();
        int n = x.length();
        launch1d(CudaKernels.SIGMOID_FORWARD, n, args().i(n).ptr(ptr(x)).ptr(ptr(y)));
    }

    @Override
    protected void doSigmoidBackward(Buffer dy, Buffer y, Buffer dx) {
        bind();
        int n = dy.length();
        launch1d(CudaKernels.SIGMOID_BACKWARD, n, args().i(n).ptr(ptr(dy)).ptr(ptr(y)).ptr(ptr(dx)));
    }

    @Override
    protected void doSeedLstmCellForward(int batch, int hidden, Buffer preact, Buffer bias, Buffer sPrev,
                                         Buffer gates, Buffer s, Buffer h) {
        bind();
        launch1d(CudaKernels.SEED_LSTM_FORWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(preact))
                .ptr(ptr(bias)).ptr(ptr(sPrev)).ptr(ptr(gates)).ptr(ptr(s)).ptr(ptr(h)));
    }

    @Override
    protected void doSeedLstmCellBackward(int batch, int hidden, Buffer gates, Buffer s, Buffer sPrev, Buffer dh,
                                          Buffer dsNext, Buffer dPreact, Buffer dsPrev) {
        bind();
        launch1d(CudaKernels.SEED_LSTM_BACKWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(gates))
                .ptr(ptr(s)).ptr(ptr(sPrev)).ptr(ptr(dh)).ptr(ptr(dsNext)).ptr(ptr(dPreact)).ptr(ptr(dsPrev)));
    }

    @Override
    protected void doStandardLstmCellForward(int batch, int hidden, Buffer preact, Buffer biasIh, Buffer biasHh,
                                             Buffer cPrev, Buffer gates, Buffer c, Buffer h) {
        bind();
        launch1d(CudaKernels.STANDARD_LSTM_FORWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(preact))
                .ptr(ptr(biasIh)).ptr(ptr(biasHh)).ptr(ptr(cPrev)).ptr(ptr(gates)).ptr(ptr(c)).ptr(ptr(h)));
    }

    @Override
    protected void doStandardLstmCellBackward(int batch, int hidden, Buffer gates, Buffer c, Buffer cPrev, Buffer dh,
                                              Buffer dcNext, Buffer dPreact, Buffer dcPrev) {
        bind();
        launch1d(CudaKernels.STANDARD_LSTM_BACKWARD, batch * hidden, args().i(batch).i(hidden).ptr(ptr(gates))
                .ptr(ptr(c)).ptr(ptr(cPrev)).ptr(ptr(dh)).ptr(ptr(dcNext)).ptr(ptr(dPreact)).ptr(ptr(dcPrev)));
    }

    @Override
    protected void doSigmoidSquaredErrorLoss(int batch, int outputs, Buffer out, Buffer target, Buffer dPreact,
                                             Buffer absErrorSum, boolean accumulate) {
        bind();
        launch1d(CudaKernels.SIGMOID_SQUARED_ERROR_LOSS, batch, args().i(batch).i(outputs).ptr(ptr(out))
                .ptr(ptr(target)).ptr(ptr(dPreact)).ptr(ptr(absErrorSum)).flag(accumulate));
    }

    @Override
    protected void doSeedLstmSquaredLoss(int batch, int hidden, Buffer h, Buffer target, Buffer dh, Buffer lossSum,
                                         boolean accumulate) {
        bind();
        launch1d(CudaKernels.SEED_LSTM_SQUARED_LOSS, batch * hidden, args().i(batch).i(hidden).ptr(ptr(h))
                .ptr(ptr(target)).ptr(ptr(dh)).ptr(ptr(lossSum)).flag(accumulate));
    }

    @Override
    protected void doSumRows(int rows, int cols, Buffer src, Buffer dst, boolean accumulate) {
        bind();
        launch1d(CudaKernels.SUM_ROWS, cols, args().i(rows).i(cols).ptr(ptr(src)).ptr(ptr(dst)).flag(accumulate));
    }

    @Override
    protected void doSgdUpdate(Buffer params, Buffer grads, double learningRate) {
        bind();
        int n = params.length();
        launch1d(CudaKernels.SGD_UPDATE, n, args().i(n).ptr(ptr(params)).ptr(ptr(grads)).scalar(learningRate));
    }

    /**
     * A CUDA graph of what {@code body} issued on this backend's stream: captured (not run) between
     * {@code cuStreamBeginCapture} and {@code cuStreamEndCapture}, instantiated once, launched by each replay.
     * The capture is thread-local, so other threads' CUDA work cannot leak into it.
     */
    @Override
    protected Replay doRecord(Runnable body) {
        bind();
        CUgraph graph = new CUgraph();
        JCudaDriver.cuStreamBeginCapture(stream, CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            body.run();
        } catch (RuntimeException | Error e) {
            try {
                JCudaDriver.cuStreamEndCapture(stream, graph); // leave capture mode whatever happened
                JCudaDriver.cuGraphDestroy(graph);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        JCudaDriver.cuStreamEndCapture(stream, graph);
        CUgraphExec exec = new CUgraphExec();
        try {
            JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        } catch (RuntimeException e) {
            JCudaDriver.cuGraphDestroy(graph);
            throw e;
        }
        return new Replay() {
            private boolean closed;

            @Override
            public void replay() {
                if (closed) {
                    throw new IllegalStateException("replay used after it was closed");
                }
                if (isClosed()) {
                    throw new IllegalStateException("cuda backend used after it was closed");
                }
                bind();
                JCudaDriver.cuGraphLaunch(exec, stream);
            }

            @Override
            public boolean recorded() {
                return true;
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    bind();
                    JCudaDriver.cuGraphExecDestroy(exec);
                    JCudaDriver.cuGraphDestroy(graph);
                }
            }
        };
    }

    @Override
    protected void doSynchronize() {
        bind();
        JCudaDriver.cuStreamSynchronize(stream);
    }

    @Override
    protected void doClose() {
        // Buffers are already freed (AbstractBackend releases them first); then the library handles, then the context.
        bind();
        try {
            JCudaDriver.cuStreamSynchronize(stream);
            if (cublas != null) {
                JCublas2.cublasDestroy(cublas);
                JCudaDriver.cuMemFree(cublasWorkspace);
            }
            kernels.close();
            for (Staging slot : staging) {
                slot.close();
            }
            JCudaDriver.cuStreamDestroy(stream);
        } finally {
            JCudaDriver.cuDevicePrimaryCtxRelease(deviceHandle);
        }
    }
}
