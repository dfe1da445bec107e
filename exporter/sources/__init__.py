"""Where MBeans come from: the REST, JMX and dump-file sources behind one interface, and the factory that picks one."""
