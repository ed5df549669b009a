package org.rnn4j.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.spi.BackendProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code rnn4j devices}: the backends usable here, and for each one that is not, why. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List the backends and devices usable here, and why any other is not.")
final class DevicesCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean cuda = false;
        for (BackendProvider p : Backends.providers()) {
            BackendProvider.Availability a = p.availability();
            out.printf("%-5s %s: %s%n", p.name(), a.usable() ? "usable" : "not usable", a.reason());
            for (String line : a.details()) {
                out.println("      " + line);
            }
            cuda |= p.name().equals("cuda");
        }
        if (!cuda) {
            out.println("cuda  not usable: this build has no CUDA backend (the rnn4j-cuda module is not on the class path)");
        }
        out.println("auto  picks " + Backends.choose("auto").provider().name());
        return 0;
    }
}
