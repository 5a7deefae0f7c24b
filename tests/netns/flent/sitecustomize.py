# Loaded (PYTHONPATH) by flent's runs in bench.sh; a fix for flent 2.1.1's
# D-ITG runner, nothing else.
#
# flent parses each runner's output in a multiprocessing pool, so the runner
# is pickled to a worker. DitgRunner holds an xmlrpc.client.ServerProxy (its
# channel to the D-ITG control server); unpickling that looks up
# __setstate__ on the instance, and ServerProxy.__getattr__ answers with a
# remote method, so the worker makes an XML-RPC call with the proxy's own
# state, fails to marshal it and dies with the task. The pool never answers
# and flent waits forever after the VoIP stream has run. Rebuilding the proxy
# from its address instead fixes it.
import xmlrpc.client


def _reduce(proxy):
    uri = "http://%s%s" % (proxy._ServerProxy__host, proxy._ServerProxy__handler)
    return (xmlrpc.client.ServerProxy, (uri, None, None, False, proxy._ServerProxy__allow_none))


xmlrpc.client.ServerProxy.__reduce__ = _reduce
