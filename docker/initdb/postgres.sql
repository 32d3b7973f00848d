-- Run once by the postgres image, when its data volume is empty: the two department databases the
-- generator fills and the hub store that `hub db upgrade` migrates.
CREATE DATABASE establishment;
CREATE DATABASE organization;
CREATE DATABASE hub;
