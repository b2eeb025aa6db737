-- What the station itself said was playing during each play (ICY StreamTitle, Ogg comments): the
-- station's own claim, kept beside the detection for disputes and for spotting unregistered music.
ALTER TABLE plays ADD COLUMN station_title text;
